// The console's one way to the API: same origin, the key from sessionStorage in the
// Authorization header, problem+json answers turned into an ApiError that keeps the field errors.

const KEY = 'stratus.apiKey';
const OPERATIONS = 'stratus.operations';

/** The key of this tab's session, if logged in. */
export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  login: (key: string) => sessionStorage.setItem(KEY, key),
  logout: () => {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(OPERATIONS);
  },
};

/** One field's complaint, as the API's problem names it (`/spec/cidr`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** A problem+json answer (or a network failure, status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

/** Headers of every call: the session's key. */
export function authHeaders(): Record<string, string> {
  const key = session.key();
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function problemOf(res: Response): Promise<ApiError> {
  try {
    const p = (await res.json()) as { code?: string; detail?: string; errors?: FieldError[] };
    return new ApiError(res.status, p.code ?? 'ERROR', p.detail ?? res.statusText, p.errors ?? []);
  } catch {
    return new ApiError(res.status, 'ERROR', `${res.status} ${res.statusText}`);
  }
}

/** Calls the API; resolves with the JSON body, rejects with an ApiError. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        ...authHeaders(),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `the API did not answer: ${(error as Error).message}`);
  }
  if (res.status === 401) {
    session.logout();
    window.dispatchEvent(new Event('stratus:logout'));
  }
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A body fetched as a blob URL (an image the page may show under its CSP); revoke it after use. */
export async function blobUrl(path: string): Promise<string> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw await problemOf(res);
  return URL.createObjectURL(await res.blob());
}

/** The operations this session started, newest first (ids only; the page reads each). */
export const sessionOperations = {
  list: (): string[] => JSON.parse(sessionStorage.getItem(OPERATIONS) ?? '[]') as string[],
  add(id: string) {
    const ids = [id, ...sessionOperations.list().filter((x) => x !== id)].slice(0, 100);
    sessionStorage.setItem(OPERATIONS, JSON.stringify(ids));
  },
};

/**
 * A new Idempotency-Key, so that a retried click never creates twice. getRandomValues, not
 * randomUUID: the latter exists only in secure contexts, and a console on plain http is not one.
 */
export function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

// What the API answers, as far as the console reads it.

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export interface Resource {
  id: string;
  kind: string;
  name: string;
  labels: Record<string, string>;
  spec: Record<string, unknown>;
  status: {
    phase: string;
    conditions: Condition[];
    observedGeneration: number;
    outputs?: Record<string, unknown>;
  };
  generation: number;
  createdAt: string;
  updatedAt: string;
  deletionRequestedAt: string | null;
}

export interface Operation {
  id: string;
  kind: string;
  resourceId: string;
  verb: string;
  action: string | null;
  state: string;
  error: { reason: string; message: string } | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface Accepted {
  operation: Operation;
  resource?: Resource;
}

export interface StratusEvent {
  id: number;
  time: string;
  kind: string;
  resourceId: string;
  name: string;
  type: string;
  generation: number;
  phase: string | null;
  reason: string | null;
  message: string | null;
  resource: Resource | null;
}
