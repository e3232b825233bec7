// Whether dist/ (scripts/build.mjs) is newer than every source file. Plain JavaScript with node
// built-ins only: bin/secchat.mjs calls it before anything else is loaded.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Folders compiled into dist/ (profiles/ is copied as data). */
export const SOURCE_DIRS = ['cli', 'core', 'server', 'client', 'attacks', 'labs', 'reports', 'bench'];

/** Output folders inside source folders (reports written by `matrix` and `bench`): not sources. */
const NOT_SOURCES = new Set([path.join('reports', 'out')]);

/** Newest modification time (ms since the epoch) of any file under `dir`, or 0. */
function newestMtimeMs(dir) {
  if ([...NOT_SOURCES].some((x) => dir.endsWith(path.sep + x))) return 0;
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * True when `root`/dist was built after the last change to any source, profile or package.json,
 * so running it is running the sources. A stale or missing dist/ is false (bin/ then uses tsx):
 * a developer's edit is never shadowed by an old build.
 * @param root the package folder
 */
export function distIsFresh(root) {
  let built;
  try {
    built = statSync(path.join(root, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    return false;
  }
  const newest = Math.max(statSync(path.join(root, 'package.json')).mtimeMs, newestMtimeMs(path.join(root, 'profiles')), ...SOURCE_DIRS.map((d) => newestMtimeMs(path.join(root, d))));
  return newest <= built;
}
