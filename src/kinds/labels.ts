/**
 * The backend label carrying the resource id. Drivers name and label every backend resource
 * by the id, so `observe` finds what an earlier pass created even when that pass crashed
 * before writing its status (the crash-safe create of crossplane-runtime, without guessing).
 */
export const RESOURCE_ID_LABEL = 'stratus.io/resource-id';

/** The labels a driver puts on the backend resource of `id`. */
export function backendLabels(id: string): Record<string, string> {
  return { [RESOURCE_ID_LABEL]: id };
}
