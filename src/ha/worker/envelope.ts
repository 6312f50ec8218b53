// The job envelope lives in src/ha/job, shared by producers and consumers.
export * from '../job/envelope.js';
