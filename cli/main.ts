/**
 * The `secchat` command line: one subcommand per module in cli/commands/, listed in
 * cli/command-registry.ts and loaded only when it runs. Errors are mapped to
 * exit codes in one place (core/errors.ts exitCodeFor): 2 for bad input, 1 otherwise.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, SecchatError } from '../core/errors.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { terminalLines } from '../core/escape.ts';
import { processIo, type CliIo } from './io.ts';
import { COMMANDS, type CommandEntry } from './command-registry.ts';

/**
 * One sentence for the operating-system errors a user causes (busy port, missing folder,
 * unreadable database), or null for anything else (a bug: shown with its stack).
 */
export function systemErrorMessage(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; path?: string; dest?: string };
  if (!e || typeof e !== 'object') return null;
  const where = e.path ?? (e.address ? `${e.address}${e.port !== undefined ? `:${e.port}` : ''}` : '');
  switch (e.code) {
    case 'EADDRINUSE':
      return `${where} is already in use (another secchat server?): choose another --port, or --port 0 for any free one`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: it is not an address of this machine (servers bind to 127.0.0.1 unless --host names a local address)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${where || e.message}`;
    case 'ENOENT':
      return `no such file or folder: ${where || e.message}`;
    case 'ENOTDIR':
      return `${where || e.message}: part of that path is a file, not a folder`;
    case 'EISDIR':
      return `${where || e.message} is a folder, not a file`;
    case 'ECONNREFUSED':
      return `nothing is listening on ${where} (is the server running, on that port?)`;
  }
  if (e.name === 'SqliteError' || String(e.code ?? '').startsWith('SQLITE_')) return `cannot use the account database: ${e.message} (check --db)`;
  return null;
}

/**
 * The program with the given subcommands loaded in full; every other registered command is a stub
 * with its name and description only (enough for `secchat --help`), so a run loads the modules of
 * one command and no other. `io` receives all output (tests pass their own).
 * @param load names of commands to load in full; `'all'` loads every one (tests walking every --help)
 */
export async function loadProgram(io: CliIo = processIo, load: readonly string[] | 'all' = []): Promise<Command> {
  const wanted = (e: CommandEntry) => load === 'all' || load.includes(e.name);
  const builders = new Map(await Promise.all(COMMANDS.filter(wanted).map(async (e) => [e.name, await e.load()] as const)));
  return assemble(io, (e) => builders.get(e.name)?.(io) ?? new Command(e.name).description(e.description));
}

/** The program with every command a stub (names and descriptions): what `--help` needs, and nothing more. */
export function buildProgram(io: CliIo = processIo): Command {
  return assemble(io, (e) => new Command(e.name).description(e.description));
}

function assemble(io: CliIo, commandFor: (e: CommandEntry) => Command): Command {
  const program = new Command('secchat')
    .description('secchat — a security lab: a configurable TLS chat, real attacks against it, and honest reports.\nOnly attack systems you own; everything binds to 127.0.0.1 unless you pass --host.')
    .version(TOOL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  for (const e of COMMANDS) program.addCommand(commandFor(e));
  const exitOverrideAll = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
    c.commands.forEach(exitOverrideAll);
  };
  program.commands.forEach(exitOverrideAll);
  return program;
}

/** The command a command line runs (`secchat help X` runs X's help), or none. */
export function commandNamed(args: readonly string[]): string | null {
  const words = args.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.some((e) => e.name === name) ? name! : null;
}

/**
 * Runs the CLI.
 * @param argv process.argv style (node, script, ...args)
 * @returns the exit code (0 ok, 1 failure, 2 bad input)
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    const name = commandNamed(argv.slice(2));
    const program = name ? await loadProgram(io, [name]) : buildProgram(io);
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    // Messages can quote a server's or a man-in-the-middle's error text: the terminal rule applies.
    if (err instanceof SecchatError) io.err(`secchat: ${terminalLines(err.message)}\n`);
    else if (systemErrorMessage(err)) io.err(`secchat: ${terminalLines(systemErrorMessage(err))}\n`);
    else io.err(`secchat: unexpected error: ${terminalLines((err as Error)?.stack ?? String(err))}\n`);
    if (process.env.SECCHAT_DEBUG && err instanceof Error && err.stack) io.err(terminalLines(err.stack) + '\n');
    return exitCodeFor(err);
  }
}
