/**
 * Guided labs: the model of one lab and the loader of the lab folders.
 *
 * Each lab lives in its own folder `labs/NN-slug/` holding
 *  - `README.md`  the guide (goal, background, prediction, steps, what to observe, task);
 *  - `start.yaml` the deliberately weak starting profile the student copies and edits;
 *  - `lab.yaml`   metadata: the property the lab teaches and how the check measures it, attacks
 *                 beyond those of the weak settings the lab teaches, what "the chat still works"
 *                 means, and the prediction question with its answer and explanation (shown only
 *                 after a pass).
 * The attacks a check runs are derived, not listed by hand: every attack that core/weaknesses.ts
 * says exploits a weak setting this lab teaches, plus the lab's own extras — so no lab forgets one.
 * The folder name is the lab id, and it is the id core/weaknesses.ts points students to.
 * Hardened answers are deliberately NOT kept here (they are test fixtures under test/fixtures/labs).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ATTACKS } from '../attacks/registry.ts';
import { targetAttack } from '../attacks/targets/registry.ts';
import type { Attack } from '../attacks/types.ts';
import { ERROR_CODES, SecchatError, UsageError } from '../core/errors.ts';
import { allWeaknesses } from '../core/weaknesses.ts';
import { MEASURES } from './properties.ts';

/** The folder holding one sub-folder per lab (this file's folder). */
export const LABS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Lab folder names: two digits, a dash, a kebab-case slug. */
export const LAB_ID_RE = /^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;

/** Prediction option letters, in display order. */
export const OPTION_KEYS = ['A', 'B', 'C', 'D', 'E'] as const;

/** Defaults of the concurrent-clients chat check (lab 09), with units in the names. */
export const CONCURRENT_DEFAULTS = { clients: 32, messagesPerClient: 2, connectTimeoutMs: 15_000, deliveryMs: 4000, maxSlowdown: 10 } as const;

const chatSchema = z.discriminatedUnion('kind', [
  /** the standard conversation with no attacker: bob must receive alice's canary unaltered, and alice bob's reply */
  z.object({ kind: z.literal('conversation') }).strict(),
  /** N clients connect at once, each sends M room messages; every client must receive every other's */
  z
    .object({
      kind: z.literal('concurrent'),
      clients: z.number().int().min(2).max(200).default(CONCURRENT_DEFAULTS.clients),
      messagesPerClient: z.number().int().min(1).max(20).default(CONCURRENT_DEFAULTS.messagesPerClient),
      /** each client must connect (TCP, TLS, welcome) within this, in ms */
      connectTimeoutMs: z.number().int().min(100).max(60_000).default(CONCURRENT_DEFAULTS.connectTimeoutMs),
      /** after the last send, every message must have arrived within this, in ms */
      deliveryMs: z.number().int().min(100).max(60_000).default(CONCURRENT_DEFAULTS.deliveryMs),
      /**
       * the slowest client may take at most this many times as long to connect as with the
       * reference key exchange (X25519) measured in the same run — a ratio, so the check gives the
       * same answer on a fast or a slow machine
       */
      maxSlowdown: z.number().min(2).max(1000).default(CONCURRENT_DEFAULTS.maxSlowdown),
    })
    .strict(),
]);

const labSchema = z
  .object({
    id: z.string().regex(LAB_ID_RE),
    title: z.string().min(3),
    /**
     * what the check attacks: `profile` (a working profile copied from start.yaml) or `target` (the
     * student's own app, a target file given with `lab check N --target FILE`; no start.yaml)
     */
    subject: z.enum(['profile', 'target']).default('profile'),
    /**
     * the property the lab teaches, in one sentence (the guide states the same sentence), and the
     * measurements on the wire and on the server that decide whether it holds; required for
     * `profile` labs (a student's own app has no measure here yet)
     */
    property: z
      .object({
        statement: z.string().min(20),
        measures: z.array(z.enum(MEASURES)).min(1),
      })
      .strict()
      .optional(),
    /** attack ids the check runs besides those of the weak settings the lab teaches; every one must be blocked */
    attacks: z.array(z.string().regex(/^[a-z0-9-]+$/)).default([]),
    /**
     * attacks whose `not-applicable` verdict counts as defended, because the student removed the
     * precondition on purpose (e.g. no STARTTLS left to strip). Any other n/a fails the check,
     * and even these count only alongside the lab's measured property: an n/a never passes alone.
     */
    notApplicableDefends: z.array(z.string()).default([]),
    chat: chatSchema.default({ kind: 'conversation' }),
    /** extra measurement the check prints (it never decides the verdict) */
    measure: z.enum(['crypto-speed']).optional(),
    prediction: z
      .object({
        question: z.string().min(10),
        options: z
          .partialRecord(z.enum(OPTION_KEYS), z.string().min(1))
          .refine((o) => Object.keys(o).length >= 2, { message: 'at least two options' }),
        answer: z.enum(OPTION_KEYS),
      })
      .strict(),
    /** shown only after the check passes */
    explanation: z.string().min(20),
  })
  .strict();

/** What "the chat still works" means for a lab. */
export type ChatRequirement = z.infer<typeof chatSchema>;

/** One lab, loaded and validated. */
export interface Lab extends z.infer<typeof labSchema> {
  /**
   * every attack the check runs: those exploiting the weak settings this lab teaches
   * (core/weaknesses.ts), then lab.yaml's extras, without repeats
   */
  attacks: string[];
  /** 1-based lab number from the folder name */
  number: number;
  /** the folder holding README.md, start.yaml, lab.yaml */
  dir: string;
  readmeFile: string;
  startFile: string;
}

/**
 * Loads and validates one lab folder.
 * @throws SecchatError SECCHAT_ERR_LAB naming the file and the problem (a broken lab is a bug in secchat)
 */
export function loadLab(dir: string): Lab {
  const id = path.basename(dir);
  const m = LAB_ID_RE.exec(id);
  if (!m) throw new SecchatError(ERROR_CODES.LAB, `lab folder ${dir}: name must look like NN-slug`);
  const metaFile = path.join(dir, 'lab.yaml');
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(metaFile, 'utf8'));
  } catch (err) {
    throw new SecchatError(ERROR_CODES.LAB, `cannot read ${metaFile}: ${(err as Error).message}`);
  }
  const r = labSchema.safeParse(raw);
  if (!r.success) throw new SecchatError(ERROR_CODES.LAB, `${metaFile}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const lab = { ...r.data, attacks: checkAttacks(id, r.data.attacks) };
  if (lab.subject === 'profile' && !lab.property) throw new SecchatError(ERROR_CODES.LAB, `${metaFile}: property: a profile lab states the property its check measures`);
  if (lab.attacks.length === 0) throw new SecchatError(ERROR_CODES.LAB, `${metaFile}: the check would run no attack (no weak setting names this lab and attacks is empty)`);
  if (lab.id !== id) throw new SecchatError(ERROR_CODES.LAB, `${metaFile}: id ${lab.id} differs from its folder name ${id}`);
  if (!(lab.prediction.answer in lab.prediction.options)) throw new SecchatError(ERROR_CODES.LAB, `${metaFile}: answer ${lab.prediction.answer} is not one of the options`);
  for (const a of lab.notApplicableDefends) {
    if (!lab.attacks.includes(a)) throw new SecchatError(ERROR_CODES.LAB, `${metaFile}: notApplicableDefends names ${a}, which is not in attacks`);
  }
  return { ...lab, number: Number(m[1]), dir, readmeFile: path.join(dir, 'README.md'), startFile: path.join(dir, 'start.yaml') };
}

/**
 * The attacks a lab's check runs: every attack core/weaknesses.ts names for a weak setting this
 * lab teaches, then `extra`, in that order and without repeats.
 */
export function checkAttacks(labId: string, extra: readonly string[] = []): string[] {
  const taught = allWeaknesses().filter((w) => w.lab === labId).flatMap((w) => w.attacks);
  return [...new Set([...taught, ...extra])];
}

/**
 * Every lab under `root`, by number.
 * @param root folder of lab folders (default: the repository's `labs/`)
 */
export function loadLabs(root = LABS_DIR): Lab[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && LAB_ID_RE.test(d.name))
    .map((d) => loadLab(path.join(root, d.name)))
    .sort((a, b) => a.number - b.number);
}

/**
 * Finds a lab by number (`2`, `02`), full id (`02-certificate-verification`) or slug.
 * @throws UsageError SECCHAT_ERR_USAGE listing the labs
 */
export function findLab(ref: string, labs: Lab[] = loadLabs()): Lab {
  const r = ref.trim().toLowerCase();
  const n = /^\d+$/.test(r) ? Number(r) : NaN;
  const lab = labs.find((l) => l.number === n || l.id === r || l.id.slice(3) === r);
  if (!lab) throw new UsageError(ERROR_CODES.USAGE, `no lab "${ref}"; labs: ${labs.map((l) => `${l.number} (${l.id})`).join(', ')}`);
  return lab;
}

/** True when the attack id is in this version's registry. */
export function hasAttack(id: string, registry: readonly Attack[] = ATTACKS): boolean {
  return registry.some((a) => a.id === id);
}

/** The lab's attack ids that this version's registry lacks (the check cannot pass while any is missing). */
export function missingAttacks(lab: Lab, registry: readonly Attack[] = ATTACKS): string[] {
  if (lab.subject === 'target') return lab.attacks.filter((id) => !targetAttack(id));
  return lab.attacks.filter((id) => !hasAttack(id, registry));
}
