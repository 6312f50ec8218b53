/** Path of the stamp the build writes as its last step. */
export declare const STAMP: string;
/** True when dist/ is missing or older than the sources. */
export declare function buildIsStale(): boolean;
/** Records that dist/ now matches the sources. */
export declare function writeStamp(): void;
/** The console's Vite configuration file. */
export declare const CONSOLE_CONFIG: string;
/** True when dist/console is missing or older than the console's sources. */
export declare function consoleBuildIsStale(): boolean;
/** Records that dist/console now matches the console's sources. */
export declare function writeConsoleStamp(): void;
