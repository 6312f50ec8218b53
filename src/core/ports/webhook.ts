// The webhook port: an HTTP call made on a user's behalf (a cron job's target). Like every
// destructive call it carries a client token (a repeat is delivered once) and a fencing token
// (the backend refuses one older than the newest it saw for the same `source`).

import type { MutationOptions, Pingable } from './common.js';

/** Methods a webhook may use. */
export type WebhookMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What to call. */
export interface WebhookCall {
  readonly method: WebhookMethod;
  /** Absolute `http:` or `https:` URL. */
  readonly url: string;
  /** Request body (text); absent for none. */
  readonly body?: string;
  /**
   * Whom the call is made for (`cron-jobs/<id>`): the key the backend fences on, so a deposed
   * caller's late call for the same source is refused.
   */
  readonly source: string;
}

/** What the endpoint answered. */
export interface WebhookResult {
  /** Backend-assigned id of the delivery. */
  readonly id: string;
  /** HTTP status of the answer. */
  readonly status: number;
  /** When it was delivered (ms since the epoch, backend clock). */
  readonly deliveredAt: number;
}

/** Outbound HTTP calls. */
export interface WebhookPort extends Pingable {
  /** Delivers one call; a repeat of the client token returns the first answer, no second call. */
  deliver(call: WebhookCall, options: MutationOptions): Promise<WebhookResult>;
}
