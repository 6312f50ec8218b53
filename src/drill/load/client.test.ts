import { describe, expect, it } from 'vitest';
import { acceptable, tenantsIn } from './client.js';

describe('what the careful client accepts', () => {
  it('accepts 2xx, and the 4xx other requests of the load cause', () => {
    expect(acceptable('create', 202, {})).toBe(true);
    expect(acceptable('get', 404, {})).toBe(true);
    expect(acceptable('delete', 409, { code: 'HAS_REFERRERS' })).toBe(true);
    expect(acceptable('action', 412, {})).toBe(true);
    expect(acceptable('create', 422, { errors: [{ path: '/spec/network', message: 'not found' }] })).toBe(
      true,
    );
  });

  it("fails what is the load's bug or the API's", () => {
    expect(acceptable('create', 400, {})).toBe(false);
    expect(acceptable('get', 401, {})).toBe(false);
    expect(acceptable('update', 403, {})).toBe(false);
    expect(acceptable('create', 404, {})).toBe(false);
    expect(acceptable('list', 404, {})).toBe(false);
    expect(acceptable('create', 422, { errors: [{ path: '/spec/cidr', message: 'bad' }] })).toBe(false);
    expect(acceptable('create', 422, { errors: [] })).toBe(false);
    expect(acceptable('create', 500, {})).toBe(false);
  });

  it('reads the tenant of the resource, the operation and every item', () => {
    expect(tenantsIn({ resource: { tenant: 'b' }, operation: { tenant: 'a' } })).toEqual(['a', 'b']);
    expect(tenantsIn({ items: [{ tenant: 'a' }, { tenant: 'c' }] })).toEqual(['a', 'c']);
    expect(tenantsIn(undefined)).toEqual([]);
  });
});
