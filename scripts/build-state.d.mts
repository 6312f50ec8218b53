/** Path of the stamp the build writes as its last step. */
export declare const STAMP: string;
/** True when dist/ is missing or older than the sources. */
export declare function buildIsStale(): boolean;
/** Records that dist/ now matches the sources. */
export declare function writeStamp(): void;
