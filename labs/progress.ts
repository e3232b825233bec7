/**
 * Lab progress, saved locally in `.secchat/labs/progress.json` (outside the tracked files): the
 * prediction each student made before running anything, and how their checks went.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';

/** Where working profiles and progress live, relative to the working directory. */
export const DEFAULT_LAB_HOME = '.secchat/labs';

/** Bumped on an incompatible change to {@link ProgressFile}. */
export const PROGRESS_VERSION = 1;

/** One lab's progress. Times are ISO 8601 strings. */
export interface LabProgress {
  /** the option letter the student predicted (recorded once, before anything ran) */
  prediction?: string;
  predictedAt?: string;
  startedAt?: string;
  /** checks run so far */
  checks: number;
  lastCheckAt?: string;
  lastPassed?: boolean;
  /** first passing check */
  passedAt?: string;
}

/** The whole progress file. */
export interface ProgressFile {
  version: number;
  labs: Record<string, LabProgress>;
}

/** The progress file path under a lab home. */
export function progressFile(home: string): string {
  return path.join(home, 'progress.json');
}

/** The working profile the student edits for a lab. */
export function workingProfileFile(home: string, labId: string): string {
  return path.join(home, labId, 'profile.yaml');
}

/**
 * Reads the progress (an empty one when there is no file yet).
 * @throws SecchatError SECCHAT_ERR_LAB when the file exists but is not a progress file
 */
export function loadProgress(home: string): ProgressFile {
  const file = progressFile(home);
  if (!existsSync(file)) return { version: PROGRESS_VERSION, labs: {} };
  let data: ProgressFile;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SecchatError(ERROR_CODES.LAB, `cannot read lab progress ${file}: ${(err as Error).message} (fix or delete the file)`);
  }
  if (data?.version !== PROGRESS_VERSION || typeof data.labs !== 'object' || data.labs === null) {
    throw new SecchatError(ERROR_CODES.LAB, `${file} is not a secchat lab progress file of version ${PROGRESS_VERSION} (fix or delete it)`);
  }
  return data;
}

/** Writes the progress atomically (temporary file then rename, so a crash never leaves half a file). */
export function saveProgress(home: string, p: ProgressFile): void {
  mkdirSync(home, { recursive: true });
  const file = progressFile(home);
  writeFileSync(file + '.tmp', JSON.stringify(p, null, 2) + '\n');
  renameSync(file + '.tmp', file);
}

/** Applies `change` to one lab's entry and saves. @returns the updated entry */
export function updateLabProgress(home: string, labId: string, change: (p: LabProgress) => void): LabProgress {
  const all = loadProgress(home);
  const entry = (all.labs[labId] ??= { checks: 0 });
  change(entry);
  saveProgress(home, all);
  return entry;
}
