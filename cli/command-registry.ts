/**
 * The one registry of `secchat` subcommands. Each entry names a command, says what it does, and
 * loads its module only when that command runs: `secchat --help` must not load the server, the
 * attacks or node-forge (issue 13 item 5: start-up measured by `secchat bench cli`).
 *
 * The description here is what `secchat --help` lists; the loaded command carries the same text
 * (test/cli.test.ts checks they agree).
 */
import type { Command } from 'commander';
import type { CliIo } from './io.ts';

/** One subcommand: its name, its one-line description, and a loader for its builder. */
export interface CommandEntry {
  name: string;
  description: string;
  /** imports the command's module and returns its builder (called once per run) */
  load(): Promise<(io: CliIo) => Command>;
}

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'pki', description: 'create or inspect the lab PKI (CA, server and attacker certificates)', load: async () => (await import('./commands/pki.ts')).pkiCommand },
  { name: 'profiles', description: 'list preset profiles; show or check one', load: async () => (await import('./commands/profiles.ts')).profilesCommand },
  { name: 'server', description: "run the chat server with a profile's security settings (Ctrl-C stops it)", load: async () => (await import('./commands/server.ts')).serverCommand },
  { name: 'client', description: "chat with a profile's security settings; interactive on a terminal, else one message per stdin line (/dm NAME text, /users, /quit)", load: async () => (await import('./commands/client.ts')).clientCommand },
  { name: 'attack', description: 'run one attack against a profile (or your own app: --target) over real loopback TLS and print the verdict with evidence', load: async () => (await import('./commands/attack.ts')).attackCommand },
  { name: 'attacks', description: 'list the attacks (opt-in ones and target-only probes marked)', load: async () => (await import('./commands/attack.ts')).attacksCommand },
  { name: 'matrix', description: 'run every attack against every profile (isolated cells over loopback TLS), print a verdict per profile (the full grid with --grid), write results.json and the reports', load: async () => (await import('./commands/matrix.ts')).matrixCommand },
  { name: 'report', description: 'render a results.json as a table, Markdown or HTML; or compare two runs (before and after hardening)', load: async () => (await import('./commands/report.ts')).reportCommand },
  { name: 'explain', description: 'print each TLS handshake message in a capture field by field: offset, length, name, bytes, decoded value', load: async () => (await import('./commands/explain.ts')).explainCommand },
  { name: 'target', description: 'describe your own chat app (client and server) so secchat can attack it; only attack what you own', load: async () => (await import('./commands/target.ts')).targetCommand },
  { name: 'lab', description: 'guided labs: read a guide, predict, harden a profile, and let real attacks check it', load: async () => { const { labCommand } = await import('./commands/lab.ts'); return (io) => labCommand(io); } },
  { name: 'bench', description: "measure handshakes/s, broadcast fan-out (throughput, p50/p99 latency, memory), the passive MITM's cost and RSA vs AES-GCM, each against a minimal baseline in the same run (loopback only)", load: async () => (await import('./commands/bench.ts')).benchCommand },
];
