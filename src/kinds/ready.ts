// What the drivers of dependent kinds read from the resources they reference.
import type { DriverContext } from '../core/resources/kind.js';
import { ReconcileError } from '../core/resources/reconcile-error.js';

/** An output of the resource a reference field names; DependencyNotReady until it has one. */
export async function referencedOutput(ctx: DriverContext, field: string, output: string): Promise<string> {
  const target = await ctx.reference(field);
  const value = (target?.status.outputs as Record<string, unknown> | undefined)?.[output];
  if (!target || typeof value !== 'string' || value === '')
    throw new ReconcileError(
      'DependencyNotReady',
      `${target ? `${target.kind}/${target.name} (${target.id})` : field} has no ${output} yet`,
    );
  return value;
}
