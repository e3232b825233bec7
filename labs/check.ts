/**
 * A lab's automatic check: run the lab's real attacks against the student's profile, run the chat
 * with no attacker, probe what the server still accepts (labs/server-probe.ts), and measure the
 * lab's property (labs/properties.ts). It passes only when every attack was blocked, the chat still
 * works, and the property holds on the wire and on the server — a profile that breaks the chat
 * blocks every attacker too, and a profile that makes an attack "not applicable" by falling back to
 * something worse (TLS 1.0 only) leaves the property unheld; neither passes.
 *
 * Verdicts come only from what the runs observed, never from reading the profile's settings.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ATTACKS } from '../attacks/registry.ts';
import { newCanary, runAttack, runConversation } from '../attacks/scenario.ts';
import type { Attack, Outcome } from '../attacks/types.ts';
import { describeError, ERROR_CODES, SecchatError } from '../core/errors.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { parseProfile, usesTls, type Profile } from '../core/profile.ts';
import { checkTlsSettings, type NegotiatedTls } from '../core/tls/node-options.ts';
import type { Negotiated as ChannelNegotiated } from '../core/channel/index.ts';
import { startChatServer } from '../server/chat-server.ts';
import { runConcurrentChat, type ConcurrentChatResult } from './concurrency.ts';
import type { Lab } from './lab.ts';
import type { Target } from '../core/target.ts';
import { runTargetAttack } from '../attacks/targets/run.ts';
import { targetControlRun } from '../attacks/targets/scenario.ts';
import { targetAttack } from '../attacks/targets/registry.ts';
import { measureCryptoSpeed, type CryptoSpeed } from './measure.ts';
import { measure, probeQuestionsFor, type MeasureResult } from './properties.ts';
import { probeServer, type ServerAcceptance } from './server-probe.ts';

/** One attack's outcome in a lab check. */
export interface LabAttackOutcome {
  attack: string;
  /** the run's outcome, or `unavailable` when this version of secchat lacks the attack */
  outcome: Outcome | 'unavailable';
  /** counts as defended for this lab (blocked, or an n/a the lab accepts) */
  defended: boolean;
  /** the attack's own one-sentence reason (or why it could not run) */
  reason: string;
  summary: string;
  durationMs: number;
}

/** Whether the chat still works with the profile, with no attacker. */
export interface ChatOutcome {
  works: boolean;
  /** one sentence: what was delivered, or what stopped it */
  detail: string;
  negotiated: NegotiatedTls | null;
  /** the secure channel's parameters alice negotiated, when the profile has one */
  channel?: ChannelNegotiated | null;
  /** the concurrent run's figures (lab 09) */
  concurrent?: ConcurrentChatResult;
}

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

function judge(lab: Lab, o: { attack: string; outcome: Outcome; reason: string }, propertyHolds: boolean): { defended: boolean; failure: string | null } {
  switch (o.outcome) {
    case 'blocked':
      return { defended: true, failure: null };
    case 'not-applicable':
      if (!lab.notApplicableDefends.includes(o.attack)) return { defended: false, failure: `${o.attack} could not run against this profile (${o.reason}); this lab needs a profile the attack applies to` };
      // "Nothing to attack" is a defence only when what the lab teaches is measured to hold.
      return propertyHolds ? { defended: true, failure: null } : { defended: false, failure: `${o.attack} could not run (${o.reason}), which counts only when the lab's property holds, and it does not` };
    case 'succeeded':
      return { defended: false, failure: `${o.attack} succeeded: ${o.reason}` };
    default:
      return { defended: false, failure: `${o.attack} did not complete, so nothing was proven: ${o.reason}` };
  }
}

async function chatWorks(lab: Lab, profile: Profile, pki: PkiMaterial, tmpDir: string): Promise<ChatOutcome> {
  try {
    if (lab.chat.kind === 'concurrent') {
      const chat = lab.chat;
      // Reference run in the same process and moment: the same profile with X25519 as the group.
      const reference = usesTls(profile) ? await runConcurrentChat({ ...profile, tls: { ...profile.tls, groups: 'X25519' } }, pki, { ...chat, tmpDir }) : null;
      const r = await runConcurrentChat(profile, pki, { ...chat, tmpDir });
      const allServed = r.delivered === r.expected && r.loggedIn === r.clients;
      const refMax = reference?.connectMs?.max ?? null;
      const limitMs = refMax === null ? null : Math.max(refMax * chat.maxSlowdown, refMax + 250);
      const fastEnough = limitMs === null || (r.connectMs !== null && r.connectMs.max <= limitMs);
      const works = allServed && fastEnough;
      const times = r.connectMs ? `; connect time median ${r.connectMs.median} ms, max ${r.connectMs.max} ms` : '';
      const ref = refMax !== null ? ` (reference with X25519 in the same run: max ${refMax} ms; allowed up to ${limitMs} ms, ${chat.maxSlowdown}× the reference)` : '';
      const detail = works
        ? `${r.clients} clients connected at once and every one received all ${r.expected / r.clients} messages of the others${times}${ref}`
        : !allServed
          ? `${r.connected} of ${r.clients} clients connected within ${chat.connectTimeoutMs} ms, ${r.loggedIn} logged in, ${r.delivered} of ${r.expected} messages delivered${times}${ref}${r.errors.length ? `; first error: ${r.errors[0]}` : ''}`
          : `every client was served, but too slowly${times}${ref} — the event loop was busy with key exchanges`;
      return { works, detail, negotiated: r.negotiated, channel: null, concurrent: r };
    }
    const obs = await runConversation(profile, pki, tmpDir, newCanary(), { addon: null });
    const negotiated = obs.clients.alice.negotiated ?? obs.clients.bob.negotiated;
    const channel = obs.clients.alice.channel;
    const hop = [negotiated ? `${negotiated.protocol} ${negotiated.cipher}` : null, channel ? `secure channel ${channel.keyExchange} ${channel.cipher}` : null].filter(Boolean).join('; ') || 'plaintext';
    if (obs.bobReceived === obs.canaryMessage && obs.aliceReceived !== null) {
      return { works: true, detail: `with no attacker, bob received alice's message and alice bob's reply (${hop})`, negotiated, channel };
    }
    const err = obs.clients.alice.error ?? obs.clients.bob.error;
    const who = obs.clients.alice.error ? 'alice' : 'bob';
    const detail = err
      ? `with no attacker, the chat does not work: ${who}'s client stopped: ${err.code}: ${err.message}${explainHandshakeFailure(err.message, profile)}`
      : obs.bobReceived === null
        ? 'with no attacker, bob never received alice\'s message'
        : obs.bobReceived !== obs.canaryMessage
          ? 'with no attacker, bob received an altered message'
          : 'with no attacker, alice never received bob\'s reply';
    return { works: false, detail, negotiated, channel };
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
    const j = judge(lab, cell, true);
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

/**
 * Translates OpenSSL's handshake failure into what the student changed (appended to the raw error).
 * @returns ` — <explanation>` or '' when the message is no handshake failure we recognise
 */
export function explainHandshakeFailure(message: string, p: Profile): string {
  if (/no shared cipher|no cipher(s)? (available|match)|sslv3 alert handshake failure|no suitable signature/i.test(message)) {
    const ecdsaOnly = !!p.tls.ciphers && p.tls.ciphers.split(':').every((c) => /ECDSA/i.test(c) || c.startsWith('@') || c.startsWith('!'));
    return ecdsaOnly
      ? ' — no common cipher suite: the lab certificate is RSA, and every suite in tls.ciphers needs an ECDSA certificate (use ECDHE-RSA-… suites)'
      : ' — no common cipher suite: client and server share no suite that the RSA lab certificate can serve (check tls.ciphers / tls.ciphersuites)';
  }
  if (/unsupported protocol|wrong version number|protocol version/i.test(message)) return ' — no common TLS version: tls.minVersion … tls.maxVersion leaves nothing both ends accept';
  if (/no suitable key share|no shared group|bad key share/i.test(message)) return ' — no common key-exchange group: tls.groups leaves nothing both ends accept';
  return '';
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
  const failures: string[] = [];
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
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'secchat-lab-'));
  let chat: ChatOutcome;
  let probe: ServerAcceptance | null;
  try {
    chat = await chatWorks(lab, profile, pki, tmpDir);
    opts.onStep?.(`chat: ${chat.works ? 'works' : 'broken'}`);
    probe = await probeFor(lab, profile, pki, tmpDir);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const control = chat.works || chat.negotiated || chat.channel ? { tls: chat.negotiated, channel: chat.channel ?? null } : null;
  const measures = (lab.property?.measures ?? []).map((m) => measure(m, { control, probe }));
  const holds = measures.every((m) => m.holds);
  opts.onStep?.(`property: ${holds ? 'holds' : 'does not hold'}`);
  for (const a of attacks) {
    if (a.outcome === 'unavailable') failures.push(a.reason);
    else {
      const j = judge(lab, { attack: a.attack, outcome: a.outcome, reason: a.reason }, holds);
      a.defended = j.defended;
      if (j.failure) failures.push(j.failure);
    }
  }
  if (!chat.works) failures.push(chat.detail);
  for (const m of measures) if (!m.holds) failures.push(`the lab's property does not hold: ${m.evidence}`);
  const measurement = lab.measure === 'crypto-speed' ? measureCryptoSpeed() : undefined;
  return {
    lab: lab.id,
    profile: profile.name,
    passed: failures.length === 0,
    attacks,
    chat,
    property: { statement: lab.property?.statement ?? '', holds, measures },
    probe,
    failures,
    ...(measurement ? { measurement } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}
