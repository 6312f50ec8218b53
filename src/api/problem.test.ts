import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installProblemHandlers } from './problem.js';

describe('problem handlers', () => {
  const app = Fastify({ logger: false });
  beforeAll(async () => {
    installProblemHandlers(app);
    app.get('/dropped', async () => {
      throw Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      });
    });
    app.get('/lock', async () => {
      throw Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
    });
    app.get('/bug', async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers 503 with Retry-After for the database passing trouble, naming no internals', async () => {
    for (const url of ['/dropped', '/lock']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 503, code: 'UNAVAILABLE', title: 'Service unavailable' });
      expect(res.body).not.toMatch(/administrator|lock timeout/);
    }
  });

  it('keeps a bug a bare 500', async () => {
    const res = await app.inject({ url: '/bug' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.json()).toMatchObject({ code: 'INTERNAL' });
    expect(res.body).not.toMatch(/undefined/);
  });
});
