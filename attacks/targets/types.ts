/**
 * The interface of an attack's *target variant*: the same attack (same id, same column in the
 * matrix) played against a student's own client and server instead of secchat's chat.
 */
import type { PkiMaterial } from '../../core/pki.ts';
import type { Target } from '../../core/target.ts';
import type { Verdict } from '../types.ts';
import type { TargetObservations, TargetRunOptions } from './scenario.ts';

/** What the runner gives a target attack. */
export interface TargetContext {
  target: Target;
  /** the lab PKI: the attacker's own roots and keys (never the student's) */
  pki: PkiMaterial;
  canary: string;
  /** a private temporary folder for this run (deleted afterwards) */
  tmpDir: string;
  /** folder where the run may keep artifacts, or null */
  artifactDir: string | null;
  /** runs the student's client against its server through the proxy (see attacks/targets/scenario.ts) */
  run(opts?: Omit<TargetRunOptions, 'canary' | 'tmpDir'>): Promise<TargetObservations>;
}

/** An attack's target variant. */
export interface TargetAttack {
  /** the attack id it plays (a column of the matrix), e.g. `mitm-self-signed` */
  id: string;
  /** title and description, for attacks that exist only for targets (e.g. `mitm-gallery`) */
  title?: string;
  description?: string;
  /** null when it applies, else why not (a precondition on the target, never a predicted outcome) */
  applicability?(target: Target): string | null;
  /** true when a `blocked` verdict does not rest on the chat working (server-side probes) */
  independentOfChat?: boolean;
  run(ctx: TargetContext): Promise<Verdict>;
}
