// What the checker says of a run: per guarantee a verdict, the figures behind it and the
// violations that broke it, each naming what a reader needs to find it again (request ids,
// keys, epochs, resources, client tokens).

/** A figure: a count, a duration in ms, a ratio; null when the run gave nothing to measure. */
export type Figure = number | null;

/** One row of a guarantee's detail table (a recovery time per fault, for instance). */
export type Row = Readonly<Record<string, string | number>>;

/** The verdict on one guarantee. */
export interface GuaranteeResult {
  /** The guarantee's one-line statement. */
  readonly title: string;
  /** False when there is any violation. */
  readonly ok: boolean;
  /** Named figures; the gates read these as `G<n>.<name>`. */
  readonly figures: Readonly<Record<string, Figure>>;
  /** What broke the guarantee, one human-readable line each. */
  readonly violations: readonly string[];
  /** Detail rows, when the guarantee has per-fault or per-node figures. */
  readonly rows?: readonly Row[];
}

/** The guarantees the checker judges. */
export const GUARANTEES = ['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7'] as const;
/** One of {@link GUARANTEES}. */
export type GuaranteeId = (typeof GUARANTEES)[number];

/** Totals of a run. */
export interface RunTotals {
  readonly requests: number;
  readonly attempts: number;
  readonly retries: number;
  readonly completed: number;
  readonly faults: number;
  readonly faultsByAction: Readonly<Record<string, number>>;
  readonly resources: number;
  readonly terms: number;
  readonly jobs: number;
  readonly auditCalls: number;
}

/** The checker's verdict on a run. */
export interface CheckResult {
  /** True when every guarantee holds. */
  readonly ok: boolean;
  readonly guarantees: Readonly<Record<GuaranteeId, GuaranteeResult>>;
  readonly totals: RunTotals;
}

/** Builds a guarantee's result; `ok` follows from the violations. */
export function verdict(
  title: string,
  figures: Record<string, Figure>,
  violations: string[],
  rows?: Row[],
): GuaranteeResult {
  return { title, ok: violations.length === 0, figures, violations, ...(rows ? { rows } : {}) };
}
