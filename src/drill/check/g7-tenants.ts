// G7, tenants are isolated: no answer to a request sent with one tenant's key named a
// resource, operation or event of another tenant.

import type { RequestTrace } from './history-index.js';
import { type GuaranteeResult, verdict } from './result.js';

/** Judges G7. */
export function checkTenants(requests: ReadonlyMap<number, RequestTrace>): GuaranteeResult {
  const violations: string[] = [];
  let checked = 0;
  let crossTenant = 0;
  for (const r of requests.values()) {
    const seen = r.completion?.tenantsSeen;
    if (r.invocation === undefined || seen === undefined) continue;
    checked++;
    const foreign = [...new Set(seen.filter((t) => t !== r.invocation!.tenant))];
    if (foreign.length === 0) continue;
    crossTenant++;
    violations.push(
      `request ${r.req} (${r.invocation.method} ${r.invocation.path}) sent with tenant ${r.invocation.tenant}'s key saw data of ${foreign.join(', ')}`,
    );
  }
  return verdict(
    "no request of one tenant's key sees another tenant's data",
    { answersChecked: checked, crossTenant },
    violations,
  );
}
