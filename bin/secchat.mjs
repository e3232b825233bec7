#!/usr/bin/env node
// Entry point. Runs the compiled CLI in dist/ when it is up to date (`npm install` builds it;
// starting tsx alone costs ~0.15 s and ~40 MiB), else the TypeScript sources through tsx, so a
// checkout with no build, or with edits since the last one, still runs exactly what is on disk.
// SECCHAT_TSX=1 forces the sources.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from './freshness.mjs';
import { installExitGuard } from './exit-guard.mjs';

// A run whose top-level await never settles exits 13 with no output: say so (bin/exit-guard.mjs).
let mainReturned = false;
installExitGuard(() => mainReturned);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let mainModule;
if (!process.env.SECCHAT_TSX && distIsFresh(root)) mainModule = '../dist/cli/main.js';
else {
  const { register } = await import('tsx/esm/api');
  register();
  mainModule = '../cli/main.ts';
}
// `secchat … | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { main } = await import(mainModule);
const code = await main(process.argv);
mainReturned = true;
process.exitCode = code;
// A command is done when main() returns; a socket a peer keeps half-open must not hold the
// process (the timer is unref'd: it only fires if something else still keeps us alive).
setTimeout(() => process.exit(code), 300).unref();
