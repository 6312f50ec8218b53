// The resource model every kind shares (DESIGN.md §7), after the Kubernetes API conventions:
// `spec` is what the user wants, `status` is what the reconciler last saw.

/** A condition's truth value. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** One observation about a resource, e.g. `Ready=False, reason=Provisioning`. */
export interface Condition {
  /** What is observed; `Ready` on every kind. */
  readonly type: string;
  readonly status: ConditionStatus;
  /** One CamelCase word a program can switch on (`Provisioning`, `Available`, `BackendUnavailable`). */
  readonly reason: string;
  /** For a human: what happened, with the backend's own words on failure. */
  readonly message: string;
  /** When `status` last changed (ISO 8601). */
  readonly lastTransitionTime: string;
  /** The generation this condition was computed for: older than the resource's means stale. */
  readonly observedGeneration: number;
}

/**
 * Coarse summary of the conditions. `Provisioning`: a change is being applied (or retried after
 * a failure, see `Ready`'s reason); `Ready`; `Failed`: the last attempt failed, nothing retries
 * until the next change; `Deleting`.
 */
export type Phase = 'Provisioning' | 'Ready' | 'Failed' | 'Deleting';

/** What the reconciler saw. */
export interface ResourceStatus<Outputs = Record<string, unknown>> {
  readonly phase: Phase;
  readonly conditions: readonly Condition[];
  /** The last generation a reconcile pass finished for, or 0. */
  readonly observedGeneration: number;
  /** The kind's outputs (backend id, addresses, …); absent until the backend first answered. */
  readonly outputs?: Outputs;
}

/** One resource of any kind, as stored and as the API shows it. */
export interface Resource<Spec = Record<string, unknown>, Outputs = Record<string, unknown>> {
  /** Prefixed by the kind, e.g. `net_01j…`. */
  readonly id: string;
  /** The kind's plural name (`networks`). */
  readonly kind: string;
  readonly tenant: string;
  /** Unique per tenant and kind. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: Spec;
  readonly status: ResourceStatus<Outputs>;
  /** Bumped by every change of spec and by the delete request. */
  readonly generation: number;
  /** Bumped by every write; the ETag (`If-Match` compares it). */
  readonly resourceVersion: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Set once deletion was asked for; the row goes when the backend confirms. */
  readonly deletionRequestedAt: string | null;
  /**
   * The id of the resource that owns this one (an autoscaling group's instance), absent for a
   * resource of its own. Deleting the owner deletes its children first.
   */
  readonly owner?: string;
}

/** The `Ready` condition of a status, if any. */
export function readyCondition(status: ResourceStatus<unknown>): Condition | undefined {
  return status.conditions.find((c) => c.type === 'Ready');
}

/**
 * Sets one condition, keeping `lastTransitionTime` when its status did not change, so that a
 * client can tell how long a resource has been (not) ready.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const previous = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }];
}
