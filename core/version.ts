/**
 * secchat's version, read once from package.json. Lives in core so that `--help`, the matrix and
 * the bench can name it without loading each other (the CLI must not load the scenario runner to
 * print a version).
 */
import { existsSync, readFileSync } from 'node:fs';

/**
 * The nearest package.json above this module named "secchat". Searched upwards because the same
 * module runs from core/ (tsx) and from dist/core/ (compiled), one folder deeper.
 * @throws Error when no such package.json exists (a broken install)
 */
function findPackageJson(): { version: string } {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 4; i++) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (pkg.name === 'secchat') return pkg;
    }
    dir = new URL('..', dir);
  }
  throw new Error('secchat: package.json not found above core/version');
}

/** secchat's version (semver string from package.json, e.g. "0.1.0"). */
export const TOOL_VERSION: string = findPackageJson().version;
