// Turns Node's silent exit code 13 into a message. Plain JavaScript with node built-ins only:
// bin/secchat.mjs installs it before anything else is loaded.
//
// Node exits with 13 when the entry module's top-level await never settles and nothing keeps the
// event loop alive: the run stopped waiting on an event that will never come (a bug, e.g. a wait
// on a socket nothing reads, bounded only by an unref'd timer). The user otherwise sees no output
// at all, not even a partial report.
import { writeSync } from 'node:fs';

/** Node's exit code for an unsettled top-level await. */
export const UNSETTLED_TLA_EXIT_CODE = 13;

/** What the user reads on stderr instead of nothing. */
export const STOPPED_WAITING_MESSAGE = 'internal error: the run stopped waiting on something that never happened; please report';

/**
 * Installs a process 'exit' handler that prints {@link STOPPED_WAITING_MESSAGE} to stderr when
 * the process exits with code 13 before `finished()` is true (main() never returned: a command
 * that returns 13 itself is not this). The exit code stays 13.
 * @param finished true once the command's main() has returned
 */
export function installExitGuard(finished) {
  process.on('exit', (code) => {
    // Node 20 sets process.exitCode to 13 but passes 0 to 'exit' listeners; later versions pass 13.
    const exitCode = Number(process.exitCode ?? code) || code;
    if (exitCode !== UNSETTLED_TLA_EXIT_CODE || finished()) return;
    // Synchronous: the process is exiting, an asynchronous stream write would be lost.
    try {
      writeSync(2, `${STOPPED_WAITING_MESSAGE}\n`);
    } catch {
      /* stderr is closed: nothing else to tell */
    }
  });
}
