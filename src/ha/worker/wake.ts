// The waker lives in src/ha/job, shared by producers and consumers.
export * from '../job/wake.js';
