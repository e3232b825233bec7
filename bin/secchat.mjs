#!/usr/bin/env node
// Entry point: run the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
// `secchat … | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { main } = await import('../cli/main.ts');
const code = await main(process.argv);
process.exitCode = code;
// A command is done when main() returns; a socket a peer keeps half-open must not hold the
// process (the timer is unref'd: it only fires if something else still keeps us alive).
setTimeout(() => process.exit(code), 300).unref();
