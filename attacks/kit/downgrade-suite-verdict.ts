/**
 * The `downgrade-suite` verdict from what the run observed (attacks/plugins/downgrade-suite.ts runs
 * it from the attacker's position): the suite alice's client actually negotiated, compared with
 * the server's own choice for her untouched offer (the control), ranked by core/tls/cipher-suites.ts
 * `compareSuiteStrength` — never a table of expected outcomes.
 *
 * - succeeded only when alice's session was observed on a weaker suite than the control (and, when
 *   the offer was rewritten on the relayed path, the canary went through on it);
 * - not-applicable, "nothing to downgrade", when the offer has nothing weaker than its best and
 *   that best is itself weak (static-RSA key exchange or CBC): no defence held, there was simply
 *   nothing to force — one rule ({@link alreadyWeakAtBest}) for the terminated and the relayed path;
 * - blocked names what stopped it: an offer whose suites are all as strong as its strong best, or
 *   the rule of TLS that caught the rewritten handshake (the Finished check, RFC 5246 §7.4.9; the
 *   extended master secret, RFC 7627 §4; the TLS 1.3 key schedule, RFC 8446 §4.4.1 and §7.1; the
 *   downgrade sentinel, RFC 8446 §4.1.3; a server that accepts none of the kept suites);
 * - error (no verdict) otherwise.
 * Pure, so each rule is unit-tested with crafted observations (test/downgrade-suite-verdict.test.ts)
 * and held to a mutation score (docs/testing.md).
 */
import { CIPHER_SUITES, compareSuiteStrength, describeSuite, suiteStrength, type CipherSuiteInfo } from '../../core/tls/cipher-suites.ts';
import type { NegotiatedTls } from '../../core/tls/node-options.ts';
import type { ServerHello } from '../../core/tls/server-hello.ts';
import type { SuiteOffer } from './suite-offer.ts';
import type { Evidence, Verdict } from '../types.ts';

type Suite = Readonly<CipherSuiteInfo>;

const TLS13 = 0x0304;
/** The last 8 bytes of a TLS 1.3-capable server's random when it negotiates TLS 1.2 (RFC 8446 §4.1.3). */
const TLS12_DOWNGRADE_SENTINEL = Buffer.from('444f574e47524401', 'hex');

/** An IANA suite name without its `TLS_` prefix (every IANA suite name starts with it), for table cells. */
const bare = (s: Suite) => s.name.slice('TLS_'.length);

/** Suite names joined with ", ". */
export const suiteNames = (suites: readonly Suite[]) => suites.map((s) => s.name).join(', ');

/** The strongest suite of a non-empty list (the first of equals), by `compareSuiteStrength`. */
export function strongestSuite(suites: readonly Suite[]): Suite {
  return suites.reduce((a, b) => (compareSuiteStrength(b, a) > 0 ? b : a));
}

/**
 * The offer's best suite when there is nothing to downgrade because the weak setting is already
 * all there is: no suite in the offer is weaker than its best, and that best lacks forward secrecy
 * (static-RSA key exchange) or AEAD (CBC, MAC-then-encrypt). Null when the offer is empty, holds
 * something weaker than its best, or its best is forward secret and AEAD.
 */
export function alreadyWeakAtBest(suites: readonly Suite[]): Suite | null {
  if (!suites.length) return null;
  const best = strongestSuite(suites);
  const st = suiteStrength(best);
  if (st.forwardSecret && st.aead) return null;
  return suites.every((s) => compareSuiteStrength(s, best) === 0) ? best : null;
}

/** The offer as the evidence names it: the ranked suites, then the values secchat does not rank. */
export function offerText(off: SuiteOffer): string {
  return `${suiteNames(off.suites)}${off.unranked.length ? ` (not ranked: ${off.unranked.join(', ')})` : ''}`;
}

/** The ranked suite a negotiated cipher name stands for, or null (none negotiated, or not ranked). */
export function suiteNamed(cipher: string | null | undefined): Suite | null {
  return [...CIPHER_SUITES.values()].find((s) => s.name === cipher) ?? null;
}

/** The n/a verdict for an offer already weak at its best (see {@link alreadyWeakAtBest}); `then` says what the attacker did. */
function nothingToDowngrade(chain: string, off: SuiteOffer, best: Suite, then: string, evidence: Evidence[], negotiated: NegotiatedTls | null, data: Record<string, unknown>): Verdict {
  // Nothing weaker to force because the weak setting is already all there is: no defence, so
  // not "blocked" (retro-decrypt and server-scan show what the weak suite costs).
  return {
    outcome: 'not-applicable',
    reason: `${chain}nothing to downgrade: alice's offer (${offerText(off)}) is already weak at its best — ${describeSuite(best)} — so ${then}; what that suite costs is shown by ${suiteStrength(best).forwardSecret ? 'server-scan (CBC, MAC-then-encrypt)' : 'retro-decrypt and server-scan (no forward secrecy)'}`,
    summary: 'offer already weak',
    impact: [],
    evidence,
    negotiated,
    data,
  };
}

/** The control: the server's own choice for alice's untouched offer, or null with why not. */
export interface ControlChoice {
  suite: Suite | null;
  detail: string;
}

/** What a run with TLS terminated by the attacker observed. */
export interface TerminationRun {
  /** the position's chain of rungs, as `chainPrefix` writes it ("" on-path) */
  chain: string;
  /** alice's offer as the attacker's hop read it, or null when no ClientHello arrived */
  offer: SuiteOffer | null;
  control: ControlChoice;
  /** what alice's client negotiated with the attacker's hop */
  negotiated: NegotiatedTls | null;
  /** alice's client's error, if any */
  error: { code: string; message: string } | null;
  /** the certificate alice's client accepted, and the rung that says so */
  cert: string;
  acceptedStep: string;
  /** evidence the run gathered (position, proxy, conversation), put after the verdict's own */
  context: Evidence[];
}

/**
 * The verdict when the attacker terminated TLS with a certificate alice's client accepts and its
 * hop to her accepted only the weakest suite she offers.
 */
export function terminationVerdict(r: TerminationRun): Verdict {
  const { chain, offer: off, control, negotiated: n } = r;
  const got = suiteNamed(n?.cipher);
  const evidence: Evidence[] = [
    { kind: 'suites-offered', detail: off ? `alice's ClientHello offers ${offerText(off)}` : 'no ClientHello seen' },
    { kind: 'suite-before', detail: control.detail },
    { kind: 'suite-after', detail: n ? `alice's client negotiated ${n.protocol} ${n.cipher}${got ? ` — ${describeSuite(got)}` : ''} with the attacker` : 'alice negotiated no TLS' },
    { kind: 'accepted-certificate', detail: `alice's client accepted the attacker's ${r.cert} certificate (${r.acceptedStep})` },
    ...r.context,
  ];
  const data = { via: 'tls-termination', cert: r.cert, offered: off?.suites.map((s) => s.name) ?? [], before: control.suite?.name ?? null, after: n?.cipher ?? null };
  if (got && control.suite && compareSuiteStrength(got, control.suite) < 0) {
    const st = suiteStrength(got);
    return {
      outcome: 'succeeded',
      reason: `${chain}picked the weakest suite alice offers: her session ran on ${n!.protocol} ${describeSuite(got)} where the same offer gets ${describeSuite(control.suite)} from the server`,
      summary: `forced ${!st.forwardSecret ? 'RSA kx' : !st.aead ? 'CBC' : `${st.keyBits}-bit key`}: TLS terminated`,
      impact: ['integrity'],
      evidence,
      negotiated: n,
      data,
    };
  }
  const weakBest = off && alreadyWeakAtBest(off.suites);
  if (weakBest) return nothingToDowngrade(chain, off, weakBest, `the attacker's hop could only take what she offers${n ? ` (it got ${n.cipher})` : ''}`, evidence, n, data);
  if (got && control.suite && off) {
    return {
      outcome: 'blocked',
      reason: `${chain}the victim offers no weaker suite: alice's offer (${suiteNames(off.suites)}) has nothing below ${describeSuite(control.suite)}, the server's own choice — the attacker's hop got ${got.name}`,
      summary: 'no weaker suite in the offer',
      impact: [],
      evidence,
      negotiated: n,
      data,
    };
  }
  return {
    outcome: 'error',
    reason: `no verdict: ${n ? `alice negotiated ${n.cipher}` : `alice negotiated no TLS${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`}; ${control.detail}`,
    summary: 'inconclusive',
    impact: [],
    evidence,
    negotiated: n,
    data,
  };
}

/** What a run with the ClientHello rewritten on the relayed path observed. */
export interface RewriteRun {
  chain: string;
  /** alice's first offer as the attacker read it, or null when no ClientHello crossed its path */
  offer: SuiteOffer | null;
  /** the weakest suites the attacker kept in the rewritten offer (empty: it relayed the offer untouched) */
  kept: Suite[];
  /** the attacker also took TLS 1.3 out of supported_versions */
  strippedTls13: boolean;
  /** the server's choice for the first untouched ClientHello (null suite when not measured) */
  control: ControlChoice;
  negotiated: NegotiatedTls | null;
  error: { code: string; message: string } | null;
  /** handshakes alice's client gave up on before falling back (client.fallback), in order */
  fallbackAttempts: Array<{ maxVersion: string; error: string }>;
  /** bob received alice's canary message (the session carried it) */
  canaryThrough: boolean;
  /** the server's first flight to alice: its ServerHello and plaintext alerts */
  flight: { serverHello: ServerHello | null; alerts: string[] };
  /** plaintext alerts alice's client sent */
  clientAlerts: string[];
  /** the server's logged TLS and socket refusals */
  refusals: Array<{ event: string; code?: unknown; message?: unknown }>;
  /** evidence the run gathered (position, proxy, conversation), put after the verdict's own */
  context: Evidence[];
}

/** The verdict when the attacker only relays TLS and rewrites the ClientHello's cipher_suites. */
export function rewriteVerdict(r: RewriteRun): Verdict {
  const { chain, offer: off, kept, control, negotiated: n, flight, fallbackAttempts: fellBack } = r;
  if (!off) {
    return { outcome: 'error', reason: 'no verdict: no ClientHello crossed the attacker\'s path', summary: 'no ClientHello seen', impact: [], evidence: r.context, negotiated: n };
  }
  const offered = { kind: 'suites-offered', detail: `alice's ClientHello offers ${offerText(off)}` };
  if (!kept.length) {
    const untouched = { via: 'rewrite', offered: off.suites.map((s) => s.name), rewritten: false };
    const weakBest = alreadyWeakAtBest(off.suites);
    if (weakBest) return nothingToDowngrade(chain, off, weakBest, 'the attacker relayed it untouched', [offered, ...r.context], n, untouched);
    return {
      outcome: 'blocked',
      reason: `${chain}no weaker suite in the victim's offer: every suite alice offers (${offerText(off)}) is as strong as her best, so stripping the offer could force nothing weaker — the attacker relayed it untouched`,
      summary: 'no weaker suite in the offer',
      impact: [],
      evidence: [offered, ...r.context],
      negotiated: n,
      data: untouched,
    };
  }
  const chose = flight.serverHello ? (CIPHER_SUITES.get(flight.serverHello.cipherSuite.id) ?? null) : null;
  const got = suiteNamed(n?.cipher);
  const evidence: Evidence[] = [
    offered,
    { kind: 'suite-before', detail: control.detail },
    { kind: 'suites-rewritten', detail: `the attacker forwarded a ClientHello offering only ${suiteNames(kept)}${r.strippedTls13 ? ', with TLS 1.3 taken out of supported_versions' : ''}` },
    { kind: 'suite-after', detail: flight.serverHello ? `the server answered the rewritten offer with ${flight.serverHello.cipherSuite.name}${chose ? ` — ${describeSuite(chose)}` : ''}` : `the server sent no ServerHello to the rewritten offer${flight.alerts.length ? ` (alert: ${flight.alerts.join(', ')})` : ''}` },
    ...(flight.alerts.length ? [{ kind: 'tls-alert', detail: `the server sent alice ${flight.alerts.join(', ')}` }] : []),
    ...(r.clientAlerts.length ? [{ kind: 'tls-alert', detail: `alice's client sent ${r.clientAlerts.join(', ')}` }] : []),
    ...[...new Set(r.refusals.map((x) => `${x.event} ${String(x.code ?? '')}: ${String(x.message ?? '')}`.slice(0, 300)))].map((detail) => ({ kind: 'server-refusal', detail })),
    ...r.context,
  ];
  const data = { via: 'rewrite', offered: off.suites.map((s) => s.name), kept: kept.map((s) => s.name), before: control.suite?.name ?? null, serverChose: flight.serverHello?.cipherSuite.name ?? null, after: n?.cipher ?? null };
  const weaker = got && control.suite && compareSuiteStrength(got, control.suite) < 0 && r.canaryThrough;
  if (weaker && fellBack.length > 0) {
    // The rewritten handshakes failed, and the client retried lower versions until one worked:
    // the attacker's failures chose alice's suite (the fallback dance, RFC 7507 §1).
    evidence.unshift({ kind: 'client-fallback', detail: `alice's client retried ${fellBack.length} time(s) after failed handshakes (${fellBack.map((f) => `max ${f.maxVersion}: ${f.error}`.slice(0, 160)).join('; ')})` });
    return {
      outcome: 'succeeded',
      reason: `${chain}rewrote alice's cipher offer to ${suiteNames(kept)}; the handshakes it broke made her client fall back (client.fallback) until ${n!.protocol}, whose offer has nothing better, and her session ran on ${describeSuite(got)} instead of ${describeSuite(control.suite!)} for her untouched offer — the canary went through on the weaker suite`,
      summary: `fell back to ${bare(got).slice(0, 26)}`,
      impact: ['integrity'],
      evidence,
      negotiated: n,
      data: { ...data, fallbackAttempts: fellBack.length },
    };
  }
  if (weaker) {
    return {
      outcome: 'succeeded',
      reason: `${chain}rewrote alice's cipher offer to ${suiteNames(kept)} and nothing caught it: her session completed on ${n!.protocol} ${describeSuite(got)} (untouched: ${describeSuite(control.suite!)}) and the canary went through — the Finished check did not cover the rewritten ClientHello`,
      summary: `forced ${bare(got).slice(0, 30)}`,
      impact: ['integrity'],
      evidence,
      negotiated: n,
      data,
    };
  }
  const stopper = n ? null : rewriteStopper(flight, r.clientAlerts, r.error, r.refusals, chose);
  if (stopper) {
    return {
      outcome: 'blocked',
      reason: `${chain}rewrote alice's cipher offer to ${suiteNames(kept)}${r.strippedTls13 ? ' (and took TLS 1.3 out of supported_versions)' : ''}; ${stopper.text}`,
      summary: CATCH_SUMMARY[stopper.caught],
      impact: [],
      evidence,
      negotiated: null,
      data: { ...data, caughtBy: stopper.caught },
    };
  }
  return {
    outcome: 'error',
    // alice stopped with an error always names a stopper (above): here she either negotiated or stopped silently.
    reason: `no verdict: the attacker rewrote the offer to ${suiteNames(kept)}, and alice ${n ? `negotiated ${n.protocol} ${n.cipher}` : 'stopped with no error'}${control.suite ? ` (untouched: ${control.suite.name})` : ''} — neither a weaker session with the canary through nor a named refusal`,
    summary: 'inconclusive',
    impact: [],
    evidence,
    negotiated: n,
    data,
  };
}

/** Which rule of TLS caught a rewritten handshake, read from what the two ends said. */
export type Catch = 'no-shared-cipher' | 'tls13-key-schedule' | 'downgrade-sentinel' | 'finished' | 'finished-ems' | 'handshake';

/**
 * The rule that caught a rewritten handshake, from the ServerHello (null: the server refused before
 * one) and the text of what the ends said (alerts, OpenSSL errors).
 */
export function caughtBy(sh: ServerHello | null, observed: string): Catch {
  if (!sh) return 'no-shared-cipher';
  if (sh.selectedVersion === TLS13) return 'tls13-key-schedule';
  // RFC 8446 §4.1.3: a TLS 1.3 server negotiating 1.2 ends its random with "DOWNGRD\x01"; OpenSSL's
  // client refuses it as an inappropriate fallback and sends illegal_parameter.
  if (sh.random.subarray(24).equals(TLS12_DOWNGRADE_SENTINEL) && /inappropriate fallback|illegal.parameter/i.test(observed)) return 'downgrade-sentinel';
  if (/decrypt.error|DIGEST_CHECK_FAILED/i.test(observed)) return 'finished';
  if (/bad.record.mac|DECRYPTION_FAILED|CIPHER_OPERATION_FAILED/i.test(observed)) return sh.extendedMasterSecret ? 'finished-ems' : 'finished';
  return 'handshake';
}

/** An OpenSSL error message from its reason on ("ssl3_read_bytes:sslv3 alert …" after "SSL routines:"), else the whole message. */
function opensslDetail(message: string): string {
  const at = message.indexOf('SSL routines:');
  return at < 0 ? message : message.slice(at + 'SSL routines:'.length);
}

/**
 * What stopped a rewritten handshake, as observed, with the rule that caught it.
 * @returns null when nothing was seen (no alert, refusal or client error)
 */
export function rewriteStopper(flight: { serverHello: ServerHello | null; alerts: string[] }, clientAlerts: string[], err: { code: string; message: string } | null, refusals: Array<{ event: string; code?: unknown; message?: unknown }>, chose: Suite | null): { text: string; caught: Catch } | null {
  // alice's and bob's connections fail alike: name each distinct observation once.
  const seen = [
    ...new Set([
      ...flight.alerts.map((a) => `the server's alert ${a}`),
      ...clientAlerts.map((a) => `alice's client's alert ${a}`),
      ...refusals.map((r) => `the server's ${String(r.code ?? r.event)}`),
      ...(err ? [`alice's client's ${err.code}: ${opensslDetail(err.message).slice(0, 100)}`] : []),
    ]),
  ];
  if (!seen.length) return null;
  const what = seen.join('; ');
  const sh = flight.serverHello;
  // alice's own last error decides (a client that falls back retried, and met another rule); the rest only when hers names none.
  const fromAlice = err ? caughtBy(sh, `${err.code} ${err.message}`) : 'handshake';
  const caught = fromAlice !== 'handshake' ? fromAlice : caughtBy(sh, `${what} ${refusals.map((r) => r.message).join(' ')}`);
  // Read only by the rules after a ServerHello (every rule but no-shared-cipher, which means none came).
  const took = `the server took ${chose ? describeSuite(chose) : sh?.cipherSuite.name} from the rewritten offer, but `;
  const rule: Record<Catch, string> = {
    'no-shared-cipher': 'the server refused the rewritten offer before any ServerHello: none of the kept suites is one it accepts',
    'tls13-key-schedule': `${took}TLS 1.3 feeds the handshake transcript into its key schedule (RFC 8446 §4.4.1, §7.1): the two ends derived different keys and the handshake failed`,
    'downgrade-sentinel': `${took}the server, able to speak TLS 1.3, marked its random with the downgrade sentinel (RFC 8446 §4.1.3) and alice's client refused the TLS 1.2 session before the Finished check was even reached`,
    finished: `${took}the Finished messages cover the whole handshake transcript (RFC 5246 §7.4.9), which differs from what alice sent: the Finished check failed`,
    'finished-ems': `${took}with the extended master secret (RFC 7627 §4) the handshake transcript feeds the keys, so the two ends derived different keys and the Finished record failed to decrypt (RFC 5246 §7.4.9)`,
    handshake: `${took}the handshake failed after the ServerHello`,
  };
  return { text: `${rule[caught]} (${what})`, caught };
}

/** A table cell's few words for each rule that catches a rewritten handshake. */
export const CATCH_SUMMARY: Record<Catch, string> = {
  'no-shared-cipher': 'refused: no shared cipher',
  'tls13-key-schedule': 'caught: TLS 1.3 transcript',
  'downgrade-sentinel': 'caught: downgrade sentinel',
  finished: 'caught: Finished (transcript)',
  'finished-ems': 'caught: Finished (EMS keys)',
  handshake: 'handshake failed',
};
