/**
 * Where commands write. Kept apart from cli/common.ts (which loads profiles and the PKI) so the
 * CLI's entry point can name the streams without loading either.
 */

/** Where commands write: injectable so tests never touch the real stdout/stderr. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal (spinners and colours only then) */
  interactive: boolean;
}

/** The real process streams. */
export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  interactive: !!process.stderr.isTTY && !process.env.CI,
};
