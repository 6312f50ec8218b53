// A kind is a definition, not code (DESIGN.md §8): schemas, references, actions and a driver.
// The one store, the one API plugin and the one reconcile job serve every kind from it.

import type { Static, TObject } from 'typebox';
import type { BackendPorts } from '../ports/index.js';
import type { FieldError } from './field-error.js';
import type { Resource } from './resource.js';

/** A spec field that holds the id of another resource. */
export interface ReferenceDefinition {
  /**
   * Where the id sits in the spec, as JSON Pointer segments without the leading `/spec/`: a
   * top-level property (`network`), or a property of every item of an array, a `*` segment
   * standing for each index (`targets`, `*`, `instance` joined by slashes).
   */
  readonly field: string;
  /** The referenced kind's name, e.g. `networks`. */
  readonly kind: string;
}

/**
 * What an action does to a resource: a new spec (the same spec means "already done", an
 * idempotent repeat that writes nothing), or a refusal naming why (a 409 for the client).
 */
export type ActionOutcome<Spec> = { readonly spec: Spec } | { readonly refused: string };

/**
 * An action a kind declares (`stop`, `attach`, …), routed as `POST /v1/<kind>/:id/<action>`.
 * It is a declarative change: `apply` turns the current spec into the wanted one and the write
 * path of a PATCH does the rest (a new generation, one reconcile job, the driver's `update`).
 * Actions may change spec fields a PATCH may not (`immutable`): that is how a kind keeps a
 * field such as `powerState` under its actions' preconditions.
 */
export interface ActionDefinition<Spec = Record<string, unknown>, Outputs = Record<string, unknown>> {
  /** One line for the API reference. */
  readonly description: string;
  /** The request body's schema; without one the action takes no body (or `{}`). */
  readonly body?: TObject;
  /** The wanted spec, or why the action cannot apply now. Pure: no I/O, no clock. */
  apply(spec: Spec, body: Record<string, unknown>, resource: Resource<Spec, Outputs>): ActionOutcome<Spec>;
}

/** What a driver call gets besides the resource. */
export interface DriverContext {
  /** Idempotency key for every backend mutation of this pass: the reconcile job's key. */
  readonly clientToken: string;
  /** The lease token of the pass: backends refuse an older one per resource. */
  readonly fencingToken: number;
  /** Aborts on timeout, lost lease and shutdown: pass it to every backend call. */
  readonly signal: AbortSignal;
  /**
   * The resource a reference field of the spec names, as stored now (undefined if gone); an
   * array reference is asked for by its concrete path (`targets/2/instance`).
   */
  reference(field: string): Promise<Resource | undefined>;
}

/**
 * What an admission check sees inside the writing transaction. The service holds a lock per
 * (tenant, kind) while the check runs and until the write commits, so two writes of the same
 * kind in one tenant are admitted one after the other and each sees the other's row.
 */
export interface AdmissionContext {
  /** The resource being changed (undefined at create). */
  readonly id: string | undefined;
  /** The tenant's other resources of `kind` (default this one's), deleting ones included. */
  others(kind?: string): Promise<Resource[]>;
  /** The resource a reference field names (already resolved: same tenant, not deleting). */
  reference(field: string): Promise<Resource | undefined>;
}

/** What `observe` found in the backend. */
export type Observation<Outputs> =
  | { readonly exists: false }
  | { readonly exists: true; readonly upToDate: boolean; readonly outputs: Outputs };

/**
 * The four idempotent verbs against a backend port, after crossplane-runtime's
 * `ExternalClient`: `create` called again after a crash must not fail because the first call
 * succeeded, `delete` of something gone succeeds. Backend resources are found by the
 * resource id (a label or a deterministic name), never by guessing.
 */
export interface Driver<Spec, Outputs> {
  /** Whether the backend resource exists and matches the spec. */
  observe(resource: Resource<Spec, Outputs>, ctx: DriverContext): Promise<Observation<Outputs>>;
  /** Creates the backend resource; returns its outputs. */
  create(resource: Resource<Spec, Outputs>, ctx: DriverContext): Promise<Outputs>;
  /** Brings an existing backend resource to the spec; returns its outputs. */
  update(resource: Resource<Spec, Outputs>, observed: Outputs, ctx: DriverContext): Promise<Outputs>;
  /** Deletes the backend resource; succeeds when it is already gone. */
  delete(resource: Resource<Spec, Outputs>, observed: Outputs, ctx: DriverContext): Promise<void>;
  /**
   * The outputs are not the backend's but a controller's (a composite kind's report): a status
   * write of the reconciler keeps those in the row when it writes, never the ones it read when
   * its pass began, so a report written meanwhile is not lost.
   */
  readonly keepsOutputs?: boolean;
}

/** The definition of one kind. */
export interface KindDefinition<S extends TObject = TObject, O extends TObject = TObject> {
  /** Plural, lower case: the URL segment and the job key part (`networks`). */
  readonly name: string;
  /** Prefix of the ids (`net`). */
  readonly idPrefix: string;
  /** The spec schema: the request validation and the type of `spec`. */
  readonly spec: S;
  /** The schema of `status.outputs`. */
  readonly outputs: O;
  /** Spec fields that name other resources; checked at create and update. */
  readonly references?: readonly ReferenceDefinition[];
  /** Spec fields a PATCH may not change. */
  readonly immutable?: readonly string[];
  /**
   * The kinds of the child resources this kind owns (an autoscaling group owns instances).
   * Children are created by its controller with the owner recorded (`Resource.owner`), named
   * `<owner name>-<slot>`; deleting the owner deletes them first.
   */
  readonly owns?: readonly string[];
  /** Checks the schema cannot express (a CIDR's prefix length); paths relative to the body. */
  validate?(spec: Static<S>): FieldError[];
  /**
   * Checks against the tenant's other resources (no two networks overlap): run in the writing
   * transaction, one write of the kind per tenant at a time. Errors answer 409 with their paths.
   */
  admit?(spec: Static<S>, ctx: AdmissionContext): Promise<FieldError[]>;
  /** Declared actions, by URL segment (lower case, e.g. `stop`). */
  readonly actions?: Readonly<Record<string, ActionDefinition<Static<S>, Static<O>>>>;
  /** Builds the driver over the backend ports (already behind their resilience policies). */
  driver(ports: BackendPorts): Driver<Static<S>, Static<O>>;
}

/** Identity helper that keeps a definition's schema types. */
export function defineKind<S extends TObject, O extends TObject>(definition: KindDefinition<S, O>) {
  return definition;
}

/** One reference value found in a spec: its JSON Pointer (`/spec/targets/2/instance`) and value. */
export interface ReferenceValue {
  readonly path: string;
  /** The path relative to the spec (`targets/2/instance`), what {@link DriverContext.reference} takes. */
  readonly field: string;
  readonly value: unknown;
  readonly definition: ReferenceDefinition;
}

/** Every value present at the kind's reference fields, arrays expanded, in spec order. */
export function referenceValues(kind: Pick<KindDefinition, 'references'>, spec: unknown): ReferenceValue[] {
  const out: ReferenceValue[] = [];
  for (const definition of kind.references ?? []) {
    const walk = (node: unknown, segments: readonly string[], at: readonly string[]) => {
      if (segments.length === 0) {
        if (node !== undefined) {
          const field = at.join('/');
          out.push({ path: `/spec/${field}`, field, value: node, definition });
        }
        return;
      }
      const [head, ...rest] = segments as [string, ...string[]];
      if (head === '*') {
        if (Array.isArray(node))
          for (let i = 0; i < node.length; i++) walk(node[i], rest, [...at, String(i)]);
      } else if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
        walk((node as Record<string, unknown>)[head], rest, [...at, head]);
      }
    };
    walk(spec, definition.field.split('/'), []);
  }
  return out;
}

/** The value at a concrete reference path (`targets/2/instance`) of a spec. */
export function valueAt(spec: unknown, field: string): unknown {
  let node = spec;
  for (const segment of field.split('/')) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (typeof node === 'object' && node !== null) node = (node as Record<string, unknown>)[segment];
    else return undefined;
  }
  return node;
}
