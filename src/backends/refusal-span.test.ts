// A call refused by an open breaker still leaves its client span in the trace, failed and a
// child of the caller's span, though the refusal enters no context and awaits nothing.
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../core/errors/backend-errors.js';
import { inSpan } from '../core/tracing.js';
import { ManualClock } from '../ha/resilience/clock.js';
import { isCircuitOpenError } from '../ha/resilience/errors.js';
import { createSimBackends } from '../sim/index.js';
import { createBackends } from './index.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});

describe('a refused backend call in a trace', () => {
  it('is a failed client span under the caller span, with the client token', async () => {
    const clock = new ManualClock();
    const memory = createSimBackends({ scheduler: clock });
    const backends = createBackends({ memory, scheduler: clock });
    memory.cloud.inject('dns.*', { kind: 'error', error: () => new UnavailableError('dns down') });
    for (let i = 0; i < 5; i++) await backends.dns.ping().catch(() => {});
    expect(backends.health().dns.breaker.state).toBe('open');
    exporter.reset();
    const error = await inSpan('job', {}, () =>
      backends.dns.createZone({ domain: 'a.test' }, { clientToken: 'tok-1' }),
    ).catch((e) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    const spans = exporter.getFinishedSpans();
    const job = spans.find((s) => s.name === 'job');
    const call = spans.find((s) => s.name === 'dns.createZone');
    expect(call?.status.code).toBe(2); // ERROR
    expect(call?.attributes['stratus.client_token']).toBe('tok-1');
    expect(call?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId);
    expect(call?.events.map((e) => e.name)).toEqual(['exception']);
  });
});
