// A minimal OpenTelemetry collector for tests: it accepts OTLP/HTTP JSON exports on
// /v1/traces and keeps every span in memory, with the service instance that sent it.
import { createServer, type Server } from 'node:http';

/** One span as received, ids in hex as OTLP/JSON encodes them. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  /** `service.instance.id` of the exporting process (its node id). */
  readonly node: string;
  /** 0 unset, 1 ok, 2 error. */
  readonly status: number;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
        status?: { code?: number };
      }>;
    }>;
  }>;
}

const otlpValue = (v: OtlpValue): unknown =>
  v.stringValue ??
  (v.intValue === undefined ? undefined : Number(v.intValue)) ??
  v.doubleValue ??
  v.boolValue;
const attributesOf = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, otlpValue(a.value)]));

export interface Collector {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      if (request.url !== '/v1/traces' || !String(request.headers['content-type']).includes('json')) {
        response.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const rs of body.resourceSpans ?? []) {
        const node = String(attributesOf(rs.resource?.attributes)['service.instance.id'] ?? '');
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
              node,
              status: s.status?.code ?? 0,
            });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * What keeps the spans of `traceId` from being one connected tree: no span, more than one
 * root, or a span whose parent is not in the trace (a broken link between processes).
 */
export function traceProblems(spans: readonly ReceivedSpan[], traceId: string): string[] {
  const mine = spans.filter((s) => s.traceId === traceId);
  if (mine.length === 0) return [`no span of trace ${traceId}`];
  const ids = new Set(mine.map((s) => s.spanId));
  const roots = mine.filter((s) => s.parentSpanId === '' || !ids.has(s.parentSpanId));
  if (roots.length === 1) return [];
  return roots.map((s) =>
    s.parentSpanId === ''
      ? `root span "${s.name}" (${s.node})`
      : `span "${s.name}" (${s.node}) has parent ${s.parentSpanId}, which is not in the trace`,
  );
}
