/**
 * Lab progress, saved locally in `.secchat/labs/progress.json` (outside the tracked files): the
 * prediction each student made before running anything, and how their checks went.
 *
 * The file is the student's to edit, so a recorded pass is evidence, not proof: it keeps the exact
 * profile text that passed, its SHA-256 and what the check measured, and `secchat lab verify`
 * (what a teacher runs when grading) re-runs the check on that text. A pass whose record is
 * missing, altered or no longer passes is flagged, and its answer is not revealed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';

/** Where working profiles and progress live, relative to the working directory. */
export const DEFAULT_LAB_HOME = '.secchat/labs';

/** Bumped on an incompatible change to {@link ProgressFile}. */
export const PROGRESS_VERSION = 1;

/** The evidence kept with a passing check. */
export interface PassRecord {
  /** when the check passed (ISO 8601) */
  at: string;
  /** the profile file that was checked, as given */
  file: string;
  /** its exact text */
  profileText: string;
  /** SHA-256 of `profileText` (UTF-8), hex */
  sha256: string;
  /** what the check measured: each attack's outcome, the property's measures, the chat */
  results: {
    attacks: Array<{ attack: string; outcome: string }>;
    property: Array<{ measure: string; holds: boolean; evidence: string }>;
    chat: string;
  };
}

/** SHA-256 of a profile's text, hex (the digest a pass record keeps). */
export function profileDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

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
  /** the evidence of the latest passing check */
  pass?: PassRecord;
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

/**
 * The lab a working profile belongs to, from its path (`<home>/<NN-slug>/profile.yaml`), or null.
 * Used to keep the fix out of weak-setting warnings while that lab is not passed.
 */
export function labOfWorkingProfile(file: string): { home: string; labId: string } | null {
  const abs = path.resolve(file);
  if (path.basename(abs) !== 'profile.yaml') return null;
  const labId = path.basename(path.dirname(abs));
  if (!/^\d{2}-[a-z0-9-]+$/.test(labId)) return null;
  const home = path.dirname(path.dirname(abs));
  return existsSync(progressFile(home)) || path.basename(home) === 'labs' ? { home, labId } : null;
}

/** True when `file` is a lab working profile whose lab has no recorded pass (its fix would give the answer away). */
export function isUnpassedLabProfile(file: string): boolean {
  const lab = labOfWorkingProfile(file);
  if (!lab) return false;
  try {
    return !loadProgress(lab.home).labs[lab.labId]?.pass;
  } catch {
    return true;
  }
}
