import { settingsTable } from '../config/index.js';

/** The text of `stratus --help`: the commands, then every setting from the one settings table. */
export function helpText(version: string): string {
  const rows = settingsTable().map(
    (s) =>
      `  ${s.flag.padEnd(32)} ${s.env.padEnd(31)} ${s.inFile ? s.name : '-'}\n      ${s.meaning}; ${s.expected}; default ${s.default}`,
  );
  return `stratus ${version}: a highly available control plane for a small cloud

Usage:
  stratus start [settings]     run the control plane (until SIGTERM or SIGINT)
  stratus migrate [settings]   apply pending database migrations and exit
  stratus sim [settings]       run the simulated cloud (stratus sim --help for its settings)
  stratus admin create-key --tenant <id> --role admin|member|viewer [--name <name>] [settings]
                               make an API key in the database and print it once
  stratus drill run <scenario...> [--replicas api=2,worker=2] [--duration 60s] [--rate 20]
                    [--seed 1] [--out DIR] [--gate FILE]
                               a real cluster under load and faults (stratus drill --help)
  stratus --help | --version

Settings (flag, environment variable, key in the --config JSON file), then what each does,
the values it takes and its default. Flags win over the environment, which wins over the
config file, which wins over the defaults:
${rows.join('\n')}

Without a database URL, stratus runs as one process on an embedded PostgreSQL in the data dir;
its first start prints an admin key and keeps it in <data dir>/admin-key (mode 0600).

Exit status: 0 success, 1 failure, 2 invalid command line or setting.
`;
}
