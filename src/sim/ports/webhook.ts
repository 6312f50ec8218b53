// Simulated outbound HTTP calls: nothing leaves the process. A delivery is recorded (and
// audited by the shared core, once per client token, fenced per source), and the endpoint
// answers 200, or the status a URL ending in `/status/<code>` asks for (as httpbin does), so
// a test can make an endpoint fail without a fault rule.

import { InvalidInputError } from '../../core/errors/backend-errors.js';
import type { CallOptions, MutationOptions } from '../../core/ports/common.js';
import type { WebhookCall, WebhookPort, WebhookResult } from '../../core/ports/webhook.js';
import type { SimCloud } from '../cloud/cloud.js';

/** One call that reached the simulated endpoint. */
export interface Delivery extends WebhookCall, WebhookResult {
  /** The caller's client token. */
  readonly clientToken: string;
  /** The caller's fencing token, if any. */
  readonly fencingToken?: number;
}

/** The saved form of the webhook state. */
export interface WebhookState {
  readonly deliveries: readonly Delivery[];
}

const STATUS = /\/status\/([1-5][0-9]{2})$/;

/** Simulated webhook endpoints. */
export class SimWebhook implements WebhookPort {
  private deliveries: Delivery[] = [];

  /** @param cloud shared core of the simulated cloud */
  constructor(private readonly cloud: SimCloud) {}

  /** @inheritdoc */
  async ping(options?: CallOptions): Promise<void> {
    await this.cloud.enter('webhook', 'ping', options);
  }

  /** @inheritdoc */
  deliver(call: WebhookCall, options: MutationOptions): Promise<WebhookResult> {
    return this.cloud.mutate('webhook', 'deliver', call.source, call, options, () => {
      let url: URL;
      try {
        url = new URL(call.url);
      } catch {
        throw new InvalidInputError(`bad url ${call.url}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new InvalidInputError(`url ${call.url} is not http or https`);
      const status = Number(STATUS.exec(url.pathname)?.[1] ?? 200);
      const result: WebhookResult = {
        id: this.cloud.newId('dlv'),
        status,
        deliveredAt: this.cloud.wallClock(),
      };
      this.deliveries.push({
        ...call,
        ...result,
        clientToken: options.clientToken,
        ...(options.fencingToken === undefined ? {} : { fencingToken: options.fencingToken }),
      });
      return result;
    });
  }

  /** Every delivery, in order. */
  all(): readonly Delivery[] {
    return this.deliveries;
  }

  /** The webhook state, for saving. */
  exportState(): WebhookState {
    return { deliveries: [...this.deliveries] };
  }

  /** Restores a saved state. */
  importState(state: WebhookState): void {
    this.deliveries = [...state.deliveries];
  }
}
