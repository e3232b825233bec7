/**
 * A lab's automatic check: run the lab's real attacks against the student's profile, run the chat
 * with no attacker, probe what the server still accepts (labs/server-probe.ts), and measure the
 * lab's property (labs/properties.ts). It passes only when every attack was blocked, the chat still
 * works, and the property holds on the wire and on the server — a profile that breaks the chat
 * blocks every attacker too, and a profile that makes an attack "not applicable" by falling back to
 * something worse (TLS 1.0 only) leaves the property unheld; neither passes.
 *
 * Verdicts come only from what the runs observed, never from reading the profile's settings. This
 * file runs things; the judgement of what they observed is labs/check-judgement.ts (pure).
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeScratchDir } from '../core/scratch-dir.ts';
import { ATTACKS } from '../attacks/registry.ts';
import { newCanary, runAttack, runConversation } from '../attacks/scenario.ts';
import type { Attack } from '../attacks/types.ts';
import { describeError, ERROR_CODES, SecchatError } from '../core/errors.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { parseProfile, usesTls, type Profile } from '../core/profile.ts';
import { checkTlsSettings } from '../core/tls/node-options.ts';
import { startChatServer } from '../server/chat-server.ts';
import { runConcurrentChat } from './concurrency.ts';
import { concurrentChatOutcome, controlOf, conversationOutcome, judgeAttack, labVerdict, type ChatOutcome, type LabAttackOutcome } from './check-judgement.ts';
import type { Lab } from './lab.ts';
import type { Target } from '../core/target.ts';
import { runTargetAttack } from '../attacks/targets/run.ts';
import { targetControlRun } from '../attacks/targets/scenario.ts';
import { targetAttack } from '../attacks/targets/registry.ts';
import { measureCryptoSpeed, type CryptoSpeed } from './measure.ts';
import { measure, probeQuestionsFor, type MeasureResult } from './properties.ts';
import { probeServer, type ServerAcceptance } from './server-probe.ts';

export type { ChatOutcome, LabAttackOutcome } from './check-judgement.ts';
export { explainHandshakeFailure } from './check-judgement.ts';

/** The result of one lab check. */
export interface LabCheckResult {
  lab: string;
  profile: string;
  passed: boolean;
  attacks: LabAttackOutcome[];
  chat: ChatOutcome;
  /** the lab's property, each measure with its evidence */
  property: { statement: string; holds: boolean; measures: MeasureResult[] };
  /** what the server accepted when probed (null when the property needs no probe) */
  probe: ServerAcceptance | null;
  /** one sentence per reason the check failed (empty when passed) */
  failures: string[];
  /** extra figures the lab measures (lab 05); never part of the verdict */
  measurement?: CryptoSpeed;
  durationMs: number;
}

/**
 * Reads the student's working profile for a check.
 * @throws SecchatError SECCHAT_ERR_LAB (exit 1) when the file is missing or empty — a deleted or
 *   emptied profile is a failed check, not a pass; UsageError SECCHAT_ERR_PROFILE_INVALID (exit 2)
 *   when it is not a valid profile (the message names the field and the allowed values)
 */
export function readWorkingProfile(file: string, hint = ''): Profile {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
    text = readFileSync(file, 'utf8');
  } catch {
    throw new SecchatError(ERROR_CODES.LAB, `check failed: there is no working profile at ${file}${hint ? ` (${hint})` : ''}`, { file });
  }
  // Comments and blank lines only is as empty as a zero-byte file.
  if (!text.split('\n').some((l) => l.trim() && !l.trim().startsWith('#'))) {
    throw new SecchatError(ERROR_CODES.LAB, `check failed: the working profile ${file} is empty${hint ? ` (${hint})` : ''}`, { file });
  }
  const profile = parseProfile(text, file);
  checkTlsSettings(profile);
  return profile;
}

/** Options of {@link checkLab}. */
export interface CheckLabOptions {
  /** the attack registry (tests inject one); default this version's */
  registry?: readonly Attack[];
  /** called as each step finishes, for progress output */
  onStep?: (text: string) => void;
}

async function chatWorks(lab: Lab, profile: Profile, pki: PkiMaterial, tmpDir: string): Promise<ChatOutcome> {
  try {
    if (lab.chat.kind === 'concurrent') {
      const chat = lab.chat;
      // Reference run in the same process and moment: the same profile with X25519 as the group.
      const reference = usesTls(profile) ? await runConcurrentChat({ ...profile, tls: { ...profile.tls, groups: 'X25519' } }, pki, { ...chat, tmpDir }) : null;
      const r = await runConcurrentChat(profile, pki, { ...chat, tmpDir });
      const { works, detail } = concurrentChatOutcome(r, reference?.connectMs?.max ?? null, chat);
      return { works, detail, negotiated: r.negotiated, channel: null, concurrent: r };
    }
    const obs = await runConversation(profile, pki, tmpDir, newCanary(), { addon: null });
    return conversationOutcome(obs, profile);
  } catch (err) {
    const d = describeError(err);
    return { works: false, detail: `the chat could not run with this profile: ${d.code}: ${d.message}`, negotiated: null };
  }
}

/**
 * Runs a target lab's check (lab.subject `target`) against a student's own app: the lab's
 * attacks' target variants one after another (each starts the student's programs), then the app
 * once with no attacker (the canary must arrive).
 * @returns as {@link checkLab}; attack and app failures are results, never thrown
 */
export async function checkTargetLab(lab: Lab, target: Target, pki: PkiMaterial, opts: Pick<CheckLabOptions, 'onStep'> = {}): Promise<LabCheckResult> {
  const started = performance.now();
  const failures: string[] = [];
  const attacks: LabAttackOutcome[] = [];
  // One at a time: each run starts the student's server and clients, which may not like company.
  for (const id of lab.attacks) {
    if (!targetAttack(id)) {
      attacks.push({ attack: id, outcome: 'unavailable', defended: false, reason: `attack ${id} has no target variant in this version of secchat`, summary: 'not available yet', durationMs: 0 });
      failures.push(attacks[attacks.length - 1]!.reason);
      continue;
    }
    const cell = await runTargetAttack(id, target, pki);
    // No property is measured on a student's own app yet: its n/a rules stay the lab's own.
    const j = judgeAttack(lab, cell, true);
    opts.onStep?.(`${id}: ${cell.outcome}`);
    attacks.push({ attack: id, outcome: cell.outcome, defended: j.defended, reason: cell.reason, summary: cell.summary, durationMs: cell.durationMs });
    if (j.failure) failures.push(j.failure.replace('this profile', 'this app'));
  }
  const control = await targetControlRun(target, newCanary());
  const chat: ChatOutcome = { works: control.works, detail: control.works ? control.detail : `with no attacker, your app does not deliver: ${control.detail}`, negotiated: null };
  opts.onStep?.(`chat: ${chat.works ? 'works' : 'broken'}`);
  if (!chat.works) failures.push(chat.detail);
  return { lab: lab.id, profile: target.name, passed: failures.length === 0, attacks, chat, property: { statement: lab.property?.statement ?? '', holds: true, measures: [] }, probe: null, failures, durationMs: Math.round(performance.now() - started) };
}

/** Probes a fresh server with the profile for the questions the lab's property asks; null when none. */
async function probeFor(lab: Lab, profile: Profile, pki: PkiMaterial, tmpDir: string): Promise<ServerAcceptance | null> {
  const q = probeQuestionsFor(lab.property?.measures ?? []);
  if (!q.versions && !q.staticRsa && !q.groups?.length) return null;
  if (!usesTls(profile)) return { tls: false, versions: [], staticRsa: null, groups: [] };
  const server = await startChatServer({ profile, identity: pki.server, dbPath: path.join(tmpDir, 'probe.db') });
  try {
    return await probeServer({ host: '127.0.0.1', port: server.port, transport: profile.transport }, q);
  } finally {
    await server.close();
  }
}

/**
 * Runs a lab's check against a profile.
 * @returns the outcome of every attack and of the chat; `passed` only when all attacks are
 *   defended and the chat works. Attack and chat failures are results, never thrown.
 */
export async function checkLab(lab: Lab, profile: Profile, pki: PkiMaterial, opts: CheckLabOptions = {}): Promise<LabCheckResult> {
  const started = performance.now();
  const registry = opts.registry ?? ATTACKS;
  // Attacks run side by side (each is isolated: own server, proxy, port and canary).
  const attacks = await Promise.all(
    lab.attacks.map(async (id): Promise<LabAttackOutcome> => {
      const attack = registry.find((a) => a.id === id);
      if (!attack) {
        const reason = `attack ${id} is not available in this version of secchat`;
        opts.onStep?.(`${id}: unavailable`);
        return { attack: id, outcome: 'unavailable', defended: false, reason, summary: 'not available yet', durationMs: 0 };
      }
      const cell = await runAttack(attack, profile, pki);
      opts.onStep?.(`${id}: ${cell.outcome}`);
      return { attack: id, outcome: cell.outcome, defended: false, reason: cell.reason, summary: cell.summary, durationMs: cell.durationMs };
    }),
  );
  // The chat runs after the attacks, alone, so the concurrent check (lab 09) measures only itself;
  // the probe runs last, so its handshakes never slow the chat it would then be judging.
  const tmpDir = makeScratchDir('secchat-lab-');
  let chat: ChatOutcome;
  let probe: ServerAcceptance | null;
  try {
    chat = await chatWorks(lab, profile, pki, tmpDir);
    opts.onStep?.(`chat: ${chat.works ? 'works' : 'broken'}`);
    probe = await probeFor(lab, profile, pki, tmpDir);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const measures = (lab.property?.measures ?? []).map((m) => measure(m, { control: controlOf(chat), probe }));
  const { attacks: judged, failures, holds } = labVerdict(lab, attacks, chat, measures);
  opts.onStep?.(`property: ${holds ? 'holds' : 'does not hold'}`);
  const measurement = lab.measure === 'crypto-speed' ? measureCryptoSpeed() : undefined;
  return {
    lab: lab.id,
    profile: profile.name,
    passed: failures.length === 0,
    attacks: judged,
    chat,
    property: { statement: lab.property?.statement ?? '', holds, measures },
    probe,
    failures,
    ...(measurement ? { measurement } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}
