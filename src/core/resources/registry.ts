import type { KindDefinition } from './kind.js';

const NAME = /^[a-z][a-z0-9-]{1,40}$/;
const PREFIX = /^[a-z]{2,8}$/;
/** An action is a URL segment: `stop`, `attach`, `scale-up`. */
const ACTION = /^[a-z][a-z0-9-]{0,40}$/;

/** The kinds a process serves, by name. Registering is all a kind needs to get routes and jobs. */
export class KindRegistry {
  private readonly kinds = new Map<string, KindDefinition>();

  /** @param kinds registered in order */
  constructor(kinds: readonly KindDefinition[] = []) {
    for (const kind of kinds) this.register(kind);
  }

  /** Adds a kind; refuses a second kind with the same name or id prefix. */
  register(kind: KindDefinition): this {
    if (!NAME.test(kind.name)) throw new RangeError(`kind name "${kind.name}" must match ${NAME}`);
    if (!PREFIX.test(kind.idPrefix))
      throw new RangeError(`id prefix "${kind.idPrefix}" must match ${PREFIX}`);
    for (const action of Object.keys(kind.actions ?? {}))
      if (!ACTION.test(action))
        throw new RangeError(`action "${action}" of ${kind.name} must match ${ACTION}`);
    if (this.kinds.has(kind.name)) throw new RangeError(`kind "${kind.name}" is registered twice`);
    for (const other of this.kinds.values()) {
      if (other.idPrefix === kind.idPrefix)
        throw new RangeError(
          `kinds "${other.name}" and "${kind.name}" share the id prefix "${kind.idPrefix}"`,
        );
    }
    this.kinds.set(kind.name, kind);
    return this;
  }

  /** The kind of this name, if registered. */
  get(name: string): KindDefinition | undefined {
    return this.kinds.get(name);
  }

  /** Every kind, in registration order. */
  all(): KindDefinition[] {
    return [...this.kinds.values()];
  }
}
