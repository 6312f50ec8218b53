// The engines and versions a managed database can run: what the API validates a spec against.

/** Versions offered per engine, oldest first. */
export const ENGINE_VERSIONS = {
  postgres: ['14', '15', '16', '17'],
  mysql: ['8.0', '8.4'],
} as const;

/** An engine name. */
export type Engine = keyof typeof ENGINE_VERSIONS;

/** Whether `version` is offered for `engine`. */
export function offersVersion(engine: Engine, version: string): boolean {
  return (ENGINE_VERSIONS[engine] as readonly string[]).includes(version);
}
