/**
 * Scratch directories for the files of throwaway servers (account databases, pepper keys,
 * recordings) that a scenario run creates and removes.
 *
 * SQLite syncs the database to disk when a server closes it (a WAL checkpoint). On a disk shared
 * with other work those syncs block the event loop for milliseconds each — about 3 s of a matrix
 * run's main thread, measured with `--cpu-prof` under load. On Linux `/dev/shm` is a RAM file
 * system, where a sync costs nothing; it is used unless the user names a directory with `TMPDIR`.
 */
import { accessSync, constants, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RAM_DIR = '/dev/shm';
let base: string | null = null;

/** The directory scratch directories go in: `$TMPDIR` if set, else `/dev/shm` if writable, else os.tmpdir(). */
export function scratchBase(): string {
  if (base) return base;
  base = os.tmpdir();
  if (!process.env.TMPDIR && process.platform === 'linux') {
    try {
      if (statSync(RAM_DIR).isDirectory()) {
        accessSync(RAM_DIR, constants.W_OK);
        base = RAM_DIR;
      }
    } catch {
      // no usable /dev/shm (a container without it): the ordinary temp directory
    }
  }
  return base;
}

/**
 * Creates a fresh private directory (mode 0700, as mkdtemp makes it) for scratch files.
 * @param prefix  start of the directory's name, e.g. 'secchat-run-'
 * @returns its absolute path; the caller removes it
 * @throws the mkdtemp error (ENOSPC, EACCES) when it cannot be created
 */
export function makeScratchDir(prefix: string): string {
  return mkdtempSync(path.join(scratchBase(), prefix));
}
