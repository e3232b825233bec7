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
process.exitCode = await main(process.argv);
