/**
 * Commands contributed by later modules (labs, bench), listed here so cli/main.ts stays small.
 */
import type { Command } from 'commander';
import type { CliIo } from './common.ts';
import { labCommand } from './commands/lab.ts';
import { benchCommand } from './commands/bench.ts';

export const extraCommands: Array<(io: CliIo) => Command> = [(io) => labCommand(io), benchCommand];
