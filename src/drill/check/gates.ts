// Release gates: thresholds on the checker's figures, kept in a file (drills/gates.json). A
// gate names a figure as `G<n>.<figure>` and bounds it with `max` or `min`; a missed gate
// names itself, its figure's value and its threshold. A figure the run did not measure (no
// leader was killed, so there is no failover time) leaves its gate unmeasured, which passes
// unless the gate is `required`: a gate that names failover must then see a failover.

import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { type CheckResult, type Figure, GUARANTEES, type GuaranteeId } from './result.js';

/** One threshold. */
export interface Gate {
  /** `G<n>.<figure>`, e.g. `G4.failoverP99Ms.kill`. */
  readonly figure: string;
  readonly max?: number;
  readonly min?: number;
  /** Miss the gate when the figure was not measured. */
  readonly required?: boolean;
  /** Why this threshold (shown in the report). */
  readonly why?: string;
}

/** A gates file: gates by name. */
export interface Gates {
  readonly gates: Readonly<Record<string, Gate>>;
}

/** How a gate fared. */
export interface GateResult {
  readonly name: string;
  readonly figure: string;
  readonly value: Figure;
  readonly max?: number;
  readonly min?: number;
  readonly status: 'passed' | 'missed' | 'unmeasured';
  /** One line: `gate resumeP99Ms missed: G4.resumeP99Ms = 7200 > 6000`. */
  readonly message: string;
}

const GatesSchema = Type.Object({
  gates: Type.Record(
    Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]*$' }),
    Type.Object(
      {
        figure: Type.String({ pattern: `^(${GUARANTEES.join('|')})\\.[A-Za-z0-9_.-]+$` }),
        max: Type.Optional(Type.Number()),
        min: Type.Optional(Type.Number()),
        required: Type.Optional(Type.Boolean()),
        why: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  ),
});
const gatesValidator = Compile(GatesSchema);

const BRAND: unique symbol = Symbol.for('stratus.drill.gates-error');

/** A gates file that is not valid. */
export class GatesError extends Error {
  readonly code = 'DRILL_GATES_INVALID';
  readonly [BRAND] = true;
  constructor(message: string) {
    super(message);
    this.name = 'GatesError';
  }
}

/** True when `error` is a {@link GatesError}. */
export function isGatesError(error: unknown): error is GatesError {
  return typeof error === 'object' && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}

/** Validates a parsed gates file; throws a {@link GatesError} naming the field (`source`: the file). */
export function parseGates(value: unknown, source = 'gates'): Gates {
  if (!gatesValidator.Check(value)) {
    const e = [...gatesValidator.Errors(value)][0];
    throw new GatesError(`${source}: ${e?.instancePath || '/'} ${e?.message ?? 'is not valid'}`);
  }
  for (const [name, gate] of Object.entries(value.gates)) {
    if (gate.max === undefined && gate.min === undefined) {
      throw new GatesError(`${source}: /gates/${name} needs max or min`);
    }
  }
  return value;
}

/** The figure at `G<n>.<name>` (the name may hold dots: `failoverP99Ms.kill`), or null. */
export function figureAt(result: CheckResult, path: string): Figure {
  const dot = path.indexOf('.');
  const guarantee = result.guarantees[path.slice(0, dot) as GuaranteeId];
  return guarantee?.figures[path.slice(dot + 1)] ?? null;
}

/** Judges every gate on `result`, in the file's order. */
export function applyGates(result: CheckResult, gates: Gates): GateResult[] {
  return Object.entries(gates.gates).map(([name, gate]) => {
    const value = figureAt(result, gate.figure);
    const bounds = {
      ...(gate.max !== undefined ? { max: gate.max } : {}),
      ...(gate.min !== undefined ? { min: gate.min } : {}),
    };
    const base = { name, figure: gate.figure, value, ...bounds };
    const wanted = [
      gate.max !== undefined ? `<= ${gate.max}` : '',
      gate.min !== undefined ? `>= ${gate.min}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    if (value === null) {
      const status = gate.required ? 'missed' : 'unmeasured';
      return {
        ...base,
        status,
        message: `gate ${name} ${status}: ${gate.figure} was not measured (wanted ${wanted})`,
      };
    }
    if (gate.max !== undefined && value > gate.max) {
      return {
        ...base,
        status: 'missed',
        message: `gate ${name} missed: ${gate.figure} = ${value} > ${gate.max}`,
      };
    }
    if (gate.min !== undefined && value < gate.min) {
      return {
        ...base,
        status: 'missed',
        message: `gate ${name} missed: ${gate.figure} = ${value} < ${gate.min}`,
      };
    }
    return {
      ...base,
      status: 'passed',
      message: `gate ${name} passed: ${gate.figure} = ${value} (${wanted})`,
    };
  });
}
