import { describe, expect, it } from 'vitest';
import { type ApiResource, resourceRecord, truthIndex } from './collect.js';

const truth = truthIndex({
  instances: [{ id: 'i-1', state: 'running', size: 'small' }],
  networks: [{ id: 'n-1' }],
  volumes: [],
});
const instance = (outputs: Record<string, unknown>, spec: Record<string, unknown> = {}): ApiResource => ({
  id: 'inst_1',
  tenant: 'local',
  generation: 2,
  spec: { size: 'small', ...spec },
  status: { phase: 'Ready', observedGeneration: 2, outputs },
});

describe('a resource beside the truth', () => {
  it('finds a reconciled instance that matches the cloud', () => {
    const r = resourceRecord(instance({ backendId: 'i-1' }), 'instances', truth);
    expect(r).toMatchObject({ backendId: 'i-1', inTruth: true, deleting: false, phase: 'Ready' });
    expect(r.mismatch).toBeUndefined();
  });

  it('flags a backend object the cloud does not have', () => {
    expect(resourceRecord(instance({ backendId: 'i-9' }), 'instances', truth).inTruth).toBe(false);
  });

  it('flags an instance whose power state or size the cloud does not have', () => {
    const r = resourceRecord(
      instance({ backendId: 'i-1' }, { powerState: 'stopped', size: 'medium' }),
      'instances',
      truth,
    );
    expect(r.mismatch).toBe(
      'powerState stopped but the cloud has running; size medium but the cloud has small',
    );
  });

  it('leaves a resource not yet reconciled unjudged', () => {
    const stale = { ...instance({ backendId: 'i-1' }, { powerState: 'stopped' }), generation: 3 };
    expect(resourceRecord(stale, 'instances', truth).mismatch).toBeUndefined();
  });
});
