/** Node's exit code for an unsettled top-level await. */
export declare const UNSETTLED_TLA_EXIT_CODE: 13;
/** What the user reads on stderr instead of a silent exit 13. */
export declare const STOPPED_WAITING_MESSAGE: string;
/** Prints {@link STOPPED_WAITING_MESSAGE} on a process exit with code 13 before `finished()` is true. */
export declare function installExitGuard(finished: () => boolean): void;
