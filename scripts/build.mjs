#!/usr/bin/env node
// Compiles secchat to JavaScript in dist/ (run by `npm install` through `prepare`, and by
// `npm run build`). bin/secchat.mjs runs dist/ when it is newer than every source file, so a
// command starts without loading tsx (issue 13 item 5); otherwise it runs the sources through tsx.
// Non-TypeScript files beside the sources (preset profiles, lab guides, the wordlist) are copied so
// the compiled modules find them at the same relative paths.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { SOURCE_DIRS } from '../bin/freshness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  // A failed build must not leave a half dist/ that bin/ would run: tsx keeps working without it.
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write('secchat build: tsc failed; `secchat` will run the TypeScript sources through tsx\n');
  // Under `npm install` (prepare) a failed build must not fail the install: tsx still runs everything.
  process.exit(process.argv.includes('--if-possible') ? 0 : (r.status ?? 1));
}
function copyAssets(rel) {
  for (const name of readdirSync(path.join(root, rel))) {
    const from = path.join(root, rel, name);
    if (statSync(from).isDirectory()) copyAssets(path.join(rel, name));
    else if (!/\.(ts|mts)$/.test(name)) {
      mkdirSync(path.join(dist, rel), { recursive: true });
      copyFileSync(from, path.join(dist, rel, name));
    }
  }
}
for (const d of [...SOURCE_DIRS, 'profiles']) copyAssets(d);
// bench/startup.ts imports the freshness check from bin/ (plain JavaScript, not compiled).
mkdirSync(path.join(dist, 'bin'), { recursive: true });
copyFileSync(path.join(root, 'bin', 'freshness.mjs'), path.join(dist, 'bin', 'freshness.mjs'));
writeFileSync(path.join(dist, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');
writeFileSync(path.join(dist, '.build-stamp'), new Date().toISOString() + '\n');
