/**
 * The `secchat` command line: one subcommand per module in cli/commands/. Errors are mapped to
 * exit codes in one place (core/errors.ts exitCodeFor): 2 for bad input, 1 otherwise.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, SecchatError } from '../core/errors.ts';
import { TOOL_VERSION } from '../attacks/matrix.ts';
import { processIo, type CliIo } from './common.ts';
import { attackCommand, attacksCommand } from './commands/attack.ts';
import { clientCommand } from './commands/client.ts';
import { matrixCommand } from './commands/matrix.ts';
import { pkiCommand } from './commands/pki.ts';
import { profilesCommand } from './commands/profiles.ts';
import { reportCommand } from './commands/report.ts';
import { serverCommand } from './commands/server.ts';
import { extraCommands } from './extra-commands.ts';

/** Builds the program; `io` receives all output (tests pass their own). */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('secchat')
    .description('secchat — a security lab: a configurable TLS chat, real attacks against it, and honest reports.\nOnly attack systems you own; everything binds to 127.0.0.1 unless you pass --host.')
    .version(TOOL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  for (const c of [pkiCommand(io), profilesCommand(io), serverCommand(io), clientCommand(io), attackCommand(io), attacksCommand(io), matrixCommand(io), reportCommand(io), ...extraCommands.map((f) => f(io))]) {
    program.addCommand(c);
  }
  const exitOverrideAll = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
    c.commands.forEach(exitOverrideAll);
  };
  program.commands.forEach(exitOverrideAll);
  return program;
}

/**
 * Runs the CLI.
 * @param argv process.argv style (node, script, ...args)
 * @returns the exit code (0 ok, 1 failure, 2 bad input)
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof SecchatError) io.err(`secchat: ${err.message}\n`);
    else io.err(`secchat: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return exitCodeFor(err);
  }
}
