/**
 * A lab check's judgement, apart from the runs that feed it (labs/check.ts runs them): whether each
 * attack's outcome counts as defended, whether the chat with no attacker worked (the conversation,
 * or lab 09's concurrent clients against a reference run), and the failures the student is shown.
 * Pure: observations in, verdict out, so every rule is unit-tested with crafted observations
 * (test/lab-check-judgement.test.ts) and held to a mutation score (docs/testing.md).
 *
 * Verdicts come only from what the runs observed, never from reading the profile's settings (the
 * profile is read only to explain a handshake failure the run reported).
 */
import type { Observations, Outcome } from '../attacks/types.ts';
import type { Negotiated as ChannelNegotiated } from '../core/channel/index.ts';
import type { Profile } from '../core/profile.ts';
import type { NegotiatedTls } from '../core/tls/node-options.ts';
import type { ConcurrentChatResult } from './concurrency.ts';
import type { Lab } from './lab.ts';
import type { MeasureResult } from './properties.ts';

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

/** Lab 09's chat settings (lab.yaml `chat: { kind: concurrent }`); times in ms. */
export type ConcurrentChatSettings = Extract<Lab['chat'], { kind: 'concurrent' }>;

/**
 * Whether one attack's outcome defends the lab: `blocked` does; `not-applicable` does only for an
 * attack the lab lists in `notApplicableDefends` and only while the lab's property holds (a profile
 * that dodges the attack by falling back to something worse must not pass); `succeeded` and
 * `error` never do.
 * @returns `failure`: the sentence shown to the student, null when defended
 */
export function judgeAttack(lab: Pick<Lab, 'notApplicableDefends'>, o: { attack: string; outcome: Outcome; reason: string }, propertyHolds: boolean): { defended: boolean; failure: string | null } {
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

/**
 * Lab 09's chat verdict: every client logged in and received every other's messages, and the
 * slowest connect took at most `maxSlowdown` × the reference run's slowest (X25519, same process,
 * same moment) or the reference + 250 ms, whichever is more (a ratio alone fails on a quick
 * reference). No reference (a plaintext profile): only delivery counts.
 * @param referenceMaxMs the reference run's slowest connect in ms, or null when there was none
 */
export function concurrentChatOutcome(r: ConcurrentChatResult, referenceMaxMs: number | null, chat: ConcurrentChatSettings): Pick<ChatOutcome, 'works' | 'detail'> {
  const allServed = r.delivered === r.expected && r.loggedIn === r.clients;
  const limitMs = referenceMaxMs === null ? null : Math.max(referenceMaxMs * chat.maxSlowdown, referenceMaxMs + 250);
  const fastEnough = limitMs === null || (r.connectMs !== null && r.connectMs.max <= limitMs);
  const works = allServed && fastEnough;
  const times = r.connectMs ? `; connect time median ${r.connectMs.median} ms, max ${r.connectMs.max} ms` : '';
  const ref = referenceMaxMs !== null ? ` (reference with X25519 in the same run: max ${referenceMaxMs} ms; allowed up to ${limitMs} ms, ${chat.maxSlowdown}× the reference)` : '';
  const detail = works
    ? `${r.clients} clients connected at once and every one received all ${r.expected / r.clients} messages of the others${times}${ref}`
    : !allServed
      ? `${r.connected} of ${r.clients} clients connected within ${chat.connectTimeoutMs} ms, ${r.loggedIn} logged in, ${r.delivered} of ${r.expected} messages delivered${times}${ref}${r.errors.length ? `; first error: ${r.errors[0]}` : ''}`
      : `every client was served, but too slowly${times}${ref} — the event loop was busy with key exchanges`;
  return { works, detail };
}

/**
 * The standard conversation's verdict: it works when bob received alice's canary message exactly
 * and alice received a reply; otherwise the detail names the first client error (with what a
 * handshake failure means for the profile) or what did not arrive.
 */
export function conversationOutcome(obs: Pick<Observations, 'canaryMessage' | 'bobReceived' | 'aliceReceived' | 'clients'>, profile: Profile): ChatOutcome {
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

/**
 * What the property's wire measures read from the control run: its TLS and channel parameters
 * when the chat got far enough to negotiate any, else null (nothing was observed).
 */
export function controlOf(chat: ChatOutcome): { tls: NegotiatedTls | null; channel: ChannelNegotiated | null } | null {
  return chat.works || chat.negotiated || chat.channel ? { tls: chat.negotiated, channel: chat.channel ?? null } : null;
}

/**
 * The check's verdict from everything observed: each attack judged ({@link judgeAttack}; an
 * unavailable attack fails), then the chat, then each measure of the property, in that order.
 * @returns the attacks with `defended` filled in, and one sentence per failure (none: passed)
 */
export function labVerdict(lab: Pick<Lab, 'notApplicableDefends'>, attacks: readonly LabAttackOutcome[], chat: ChatOutcome, measures: readonly MeasureResult[]): { attacks: LabAttackOutcome[]; failures: string[]; holds: boolean } {
  const holds = measures.every((m) => m.holds);
  const failures: string[] = [];
  const judged = attacks.map((a) => {
    if (a.outcome === 'unavailable') {
      failures.push(a.reason);
      return { ...a, defended: false };
    }
    const j = judgeAttack(lab, { attack: a.attack, outcome: a.outcome, reason: a.reason }, holds);
    if (j.failure) failures.push(j.failure);
    return { ...a, defended: j.defended };
  });
  if (!chat.works) failures.push(chat.detail);
  for (const m of measures) if (!m.holds) failures.push(`the lab's property does not hold: ${m.evidence}`);
  return { attacks: judged, failures, holds };
}
