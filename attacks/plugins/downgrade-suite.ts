/**
 * `downgrade-suite`: TLS cipher-suite downgrade — the attacker makes the victim's TLS session run
 * the weakest cipher suite the victim offers (static-RSA key exchange, without forward secrecy,
 * < forward-secret CBC < forward-secret AEAD; within a class a key under 128 bits (AES-128 and AES-256 rank alike); ranked by
 * core/tls/cipher-suites.ts `compareSuiteStrength`), from the strongest position it holds
 * without a premise (attacks/kit/position.ts):
 *
 * - STARTTLS stripped: no TLS is left to downgrade — the session runs without any, a worse
 *   downgrade than any suite.
 * - TLS terminated with a certificate the victim accepts: the attacker's hop to the victim picks
 *   the weakest suite the victim offers.
 * - TLS only relayed: the attacker rewrites the ClientHello's cipher_suites to the weakest suites
 *   of the victim's offer (core/tls/client-hello-rewrite.ts) and relays the rest. The handshake
 *   transcript should catch it — the Finished check (RFC 5246 §7.4.9), or in TLS 1.3 the key
 *   schedule the transcript feeds (RFC 8446 §4.4.1, §7.1) — and the verdict names what did.
 *
 * Judged by what happened: the suite alice's client actually negotiated, compared with the
 * server's own choice for her untouched offer (her recorded ClientHello sent to the same server
 * again, and its ServerHello read) — never by a table of expected outcomes.
 */
import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import { usesTls } from '../../core/profile.ts';
import { CIPHER_SUITES, compareSuiteStrength, describeSuite, suiteStrength, type CipherSuiteInfo } from '../../core/tls/cipher-suites.ts';
import { rewriteClientHelloSuites } from '../../core/tls/client-hello-rewrite.ts';
import type { ServerHello } from '../../core/tls/server-hello.ts';
import { conversationEvidence, findCanary, proxyEvidence, serverRefusals, sightingEvidence } from '../kit/evidence.ts';
import { attackerIdentity, chainPrefix, positionAddon, positionEvidence, type Position } from '../kit/position.ts';
import type { ProxyAddon, ProxyConnectionRecord, ProxyEngine, ReplayChunk } from '../proxy.ts';
import { serverFlight, suiteOffer, weakestSuites, type SuiteOffer } from '../kit/suite-offer.ts';

export { suiteOffer, weakestSuites } from '../kit/suite-offer.ts';
import type { Attack, AttackContext, Evidence, Observations, Verdict } from '../types.ts';

const TLS13 = 0x0304;
/** The last 8 bytes of a TLS 1.3-capable server's random when it negotiates TLS 1.2 (RFC 8446 §4.1.3). */
const TLS12_DOWNGRADE_SENTINEL = Buffer.from('444f574e47524401', 'hex');
/** Longest wait for the server's ServerHello to the victim's untouched ClientHello, ms. */
const CONTROL_ANSWER_TIMEOUT_MS = 2000;

const names = (suites: ReadonlyArray<Readonly<CipherSuiteInfo>>) => suites.map((s) => s.name).join(', ');

/** The victim's side of connection `rec` on the wire (client-wire), one direction. */
function wire(engine: ProxyEngine, rec: ProxyConnectionRecord, dir: 'c2s' | 's2c'): Buffer {
  return engine.bytes({ conn: rec.id, dir, layer: 'client-wire' });
}

/**
 * The control: the server's own choice for the victim's untouched offer. Sends what the victim
 * sent on `rec` up to and including its ClientHello (a STARTTLS request first, waiting for the
 * answer where the victim did) to the same server on a fresh connection, and reads the ServerHello.
 * @returns the suite the server chose, or null with why not
 */
async function serverChoiceForUntouched(engine: ProxyEngine, rec: ProxyConnectionRecord): Promise<{ suite: Readonly<CipherSuiteInfo> | null; detail: string }> {
  const hello = rec.clientHello;
  if (!hello) return { suite: null, detail: 'no ClientHello was recorded' };
  const chunks: ReplayChunk[] = [];
  let serverSpoke = false;
  for (const c of engine.traffic) {
    if (c.conn !== rec.id || c.layer !== 'client-wire') continue;
    if (c.dir === 's2c') serverSpoke = true;
    else {
      chunks.push({ data: c.data, awaitAnswer: serverSpoke });
      serverSpoke = false;
      if (c.data.equals(hello)) break;
    }
  }
  const r = await engine.replayOnNewConnection(chunks, {
    settled: (_peer, answer) => { const f = serverFlight(answer); return !!f.serverHello || f.alerts.length > 0; },
    timeoutMs: CONTROL_ANSWER_TIMEOUT_MS,
  });
  const f = serverFlight(r.response);
  const suite = f.serverHello ? (CIPHER_SUITES.get(f.serverHello.cipherSuite.id) ?? null) : null;
  if (suite) return { suite, detail: `the server's own choice for alice's untouched ClientHello (sent to it again on a fresh connection): ${describeSuite(suite)}` };
  return { suite: null, detail: f.serverHello ? `the server chose ${f.serverHello.cipherSuite.name}, which secchat does not rank` : `the server sent no ServerHello to alice's untouched ClientHello${f.alerts.length ? ` (alert: ${f.alerts.join(', ')})` : ''}` };
}

/** alice's connection record (her address as the proxy saw it), else the first with a ClientHello. */
function aliceConnection(obs: Observations): ProxyConnectionRecord | undefined {
  const conns = obs.proxy?.connections ?? [];
  const peer = obs.clients.alice.localAddress;
  return conns.find((c) => c.clientPeer === peer && c.clientHello) ?? conns.find((c) => c.clientHello);
}

/** The position without the rungs inside TLS (a channel taken over plays no part in a TLS downgrade). */
function tlsPosition(pos: Position): Position {
  return { ...pos, channel: null, weakCipher: null, steps: pos.steps.filter((s) => !s.startsWith('took over') && !s.startsWith('rewrote')) };
}

/** Rung 2: with the STARTTLS offer stripped the session runs with no TLS at all. @returns null when not observed */
async function suiteByStrip(ctx: AttackContext, pos: Position): Promise<Verdict | null> {
  const runPos: Position = { ...pos, tls: null };
  const positioned = positionAddon(runPos, ctx.pki, { name: 'downgrade-suite' });
  const obs = await ctx.runConversation({ addon: positioned.addon });
  const alice = obs.clients.alice;
  if (!alice.connected || alice.negotiated !== null) return null;
  if (!obs.proxy!.connections.some((c) => c.notes.some((n) => n.startsWith('removed "starttls": true')))) return null;
  const sightings = findCanary(obs.proxy!.engine, ctx.canary, ['client-wire', 'plaintext']);
  const evidence: Evidence[] = [
    { kind: 'downgraded-to', detail: `alice's client connected with no TLS at all (negotiated: none, so no cipher suite) although the profile's transport is ${ctx.profile.transport}` },
    ...sightingEvidence(sightings, ctx.canary),
    ...positionEvidence(runPos),
    ...proxyEvidence(obs),
    ...conversationEvidence(obs),
  ];
  return {
    outcome: 'succeeded',
    reason: `${chainPrefix(runPos)}alice's session ran with no TLS at all — no cipher suite is left to downgrade, which is worse than any weak suite${sightings.length ? '; the attacker read the canary' : ''}`,
    summary: 'no TLS: STARTTLS stripped',
    impact: ['confidentiality', 'integrity'],
    evidence,
    negotiated: null,
    data: { via: 'starttls-strip', canaryRead: sightings.length > 0 },
  };
}

/** The OpenSSL settings that make the attacker's hop accept exactly `suite`. */
function hopSettings(suite: Readonly<CipherSuiteInfo>): { ciphers: string; maxVersion?: tls.SecureVersion } {
  // node sorts TLS_* names into the TLS 1.3 suites; the ≤ 1.2 list must not be empty, and is unused at 1.3.
  if (suite.keyExchange === 'TLS13') return { ciphers: `${suite.name}:ALL:@SECLEVEL=0` };
  return { ciphers: `${suite.openssl}:@SECLEVEL=0`, maxVersion: 'TLSv1.2' };
}

/** Rung 3: the attacker's hop to the victim picks the weakest suite the victim offers. */
async function suiteByTermination(ctx: AttackContext, pos: Position, cert: NonNullable<Position['tls']>['cert']): Promise<Verdict> {
  const runPos = tlsPosition(pos);
  const identity = attackerIdentity(ctx.pki, cert);
  const keyType = new X509Certificate(identity.certPem).publicKey.asymmetricKeyType;
  // The attacker's certificate signs the handshake: it can only serve suites whose authentication its key does.
  const serves = (s: Readonly<CipherSuiteInfo>) => s.authentication === null || (s.authentication === 'RSA') === (keyType === 'rsa');
  let picked: Readonly<CipherSuiteInfo> | null = null;
  let offer: SuiteOffer | null = null;
  const addon: ProxyAddon = {
    name: 'downgrade-suite',
    onClientHello(conn, _raw, hello) {
      if (!hello) return { action: 'terminate', identity };
      offer ??= suiteOffer(hello);
      const w = weakestSuites(suiteOffer(hello).suites.filter(serves))[0];
      if (!w) return { action: 'terminate', identity };
      picked ??= w;
      conn.note(`the attacker's hop to the victim accepts only ${w.name}, the weakest suite the victim offers that its ${keyType} certificate can serve`);
      return { action: 'terminate', identity, ...hopSettings(w) };
    },
  };
  const server = await ctx.startServer();
  const obs = await ctx.runConversation({ addon, server });
  const aliceConn = aliceConnection(obs);
  const control = aliceConn ? await serverChoiceForUntouched(obs.proxy!.engine, aliceConn) : { suite: null, detail: 'alice sent no ClientHello through the attacker' };
  const n = obs.clients.alice.negotiated;
  const got = n?.cipher ? ([...CIPHER_SUITES.values()].find((s) => s.name === n.cipher) ?? null) : null;
  const off = offer as SuiteOffer | null;
  const chain = chainPrefix(runPos);
  const evidence: Evidence[] = [
    { kind: 'suites-offered', detail: off ? `alice's ClientHello offers ${names(off.suites)}${off.unranked.length ? ` (not ranked: ${off.unranked.join(', ')})` : ''}` : 'no ClientHello seen' },
    { kind: 'suite-before', detail: control.detail },
    { kind: 'suite-after', detail: n ? `alice's client negotiated ${n.protocol} ${n.cipher}${got ? ` — ${describeSuite(got)}` : ''} with the attacker` : 'alice negotiated no TLS' },
    { kind: 'accepted-certificate', detail: `alice's client accepted the attacker's ${cert} certificate (${runPos.steps.find((s) => s.startsWith('terminated TLS')) ?? 'probed'})` },
    ...positionEvidence(runPos),
    ...proxyEvidence(obs),
    ...conversationEvidence(obs),
  ];
  const data = { via: 'tls-termination', cert, offered: off?.suites.map((s) => s.name) ?? [], before: control.suite?.name ?? null, after: n?.cipher ?? null };
  if (got && control.suite && compareSuiteStrength(got, control.suite) < 0) {
    return {
      outcome: 'succeeded',
      reason: `${chain}picked the weakest suite alice offers: her session ran on ${n!.protocol} ${describeSuite(got)} where the same offer gets ${describeSuite(control.suite)} from the server`,
      summary: `forced ${!suiteStrength(got).forwardSecret ? 'RSA kx' : !suiteStrength(got).aead ? 'CBC' : `${suiteStrength(got).keyBits}-bit key`}: TLS terminated`,
      impact: ['integrity'],
      evidence,
      negotiated: n,
      data,
    };
  }
  if (got && control.suite && off) {
    return {
      outcome: 'blocked',
      reason: `${chain}the victim offers no weaker suite: alice's offer (${names(off.suites)}) has nothing below ${describeSuite(control.suite)}, the server's own choice — the attacker's hop got ${got.name}`,
      summary: 'no weaker suite in the offer',
      impact: [],
      evidence,
      negotiated: n,
      data,
    };
  }
  const err = obs.clients.alice.error;
  return {
    outcome: 'error',
    reason: `no verdict: ${n ? `alice negotiated ${n.cipher}` : `alice negotiated no TLS${err ? ` (${err.code}: ${err.message})` : ''}`}; ${control.detail}`,
    summary: 'inconclusive',
    impact: [],
    evidence,
    negotiated: n ?? null,
    data,
  };
}

/** Rung 1: rewrite the relayed ClientHello's cipher_suites to the weakest the victim offers. */
async function suiteByRewrite(ctx: AttackContext, pos: Position): Promise<Verdict> {
  const runPos = tlsPosition(pos);
  let offer: SuiteOffer | null = null;
  let kept: Array<Readonly<CipherSuiteInfo>> = [];
  let strippedTls13 = false;
  const addon: ProxyAddon = {
    name: 'downgrade-suite',
    onClientHello(_conn, raw, hello) {
      if (!hello) return { action: 'relay' };
      const o = suiteOffer(hello);
      offer ??= o;
      const weakest = weakestSuites(o.suites);
      // Nothing below the victim's best: a rewrite would change nothing worth having.
      if (!weakest.length || weakest.length === o.suites.length || compareSuiteStrength(weakest[0]!, o.suites.reduce((a, b) => (compareSuiteStrength(b, a) > 0 ? b : a))) === 0) return { action: 'relay' };
      kept = weakest;
      // Signalling values (SCSVs, GREASE) stay: only the real suites are stripped.
      const signalling = hello.cipherSuites.filter((s) => !CIPHER_SUITES.has(s.id) && (s.name === 'GREASE' || s.name.endsWith('_SCSV'))).map((s) => s.id);
      // Kept suites that TLS 1.3 cannot use: take TLS 1.3 out of supported_versions too, or the
      // server picks 1.3 and finds no suite — the attacker would stop itself before the real defence.
      const versions = weakest.every((s) => s.keyExchange !== 'TLS13') && o.tls13 ? hello.supportedVersions!.filter((v) => v !== TLS13) : undefined;
      strippedTls13 ||= !!versions;
      return {
        action: 'rewrite',
        hello: rewriteClientHelloSuites(raw, [...weakest.map((s) => s.id), ...signalling], versions ? { supportedVersions: versions } : {}),
        note: `rewrote the ClientHello's cipher_suites from ${hello.cipherSuites.map((s) => s.name).join(', ')} to ${names(weakest)}${signalling.length ? ' (signalling values kept)' : ''}${versions ? ', and took TLS 1.3 out of supported_versions (none of the kept suites is a TLS 1.3 suite)' : ''}`,
      };
    },
  };
  const server = await ctx.startServer();
  const obs = await ctx.runConversation({ addon, server });
  const off = offer as SuiteOffer | null;
  const chain = chainPrefix(runPos);
  const n = obs.clients.alice.negotiated;
  const offerText = off ? `${names(off.suites)}${off.unranked.length ? ` (not ranked: ${off.unranked.join(', ')})` : ''}` : '';
  if (!off) {
    return { outcome: 'error', reason: 'no verdict: no ClientHello crossed the attacker\'s path', summary: 'no ClientHello seen', impact: [], evidence: [...positionEvidence(runPos), ...proxyEvidence(obs), ...conversationEvidence(obs)], negotiated: n };
  }
  const best = off.suites.length ? off.suites.reduce((a, b) => (compareSuiteStrength(b, a) > 0 ? b : a)) : null;
  if (!kept.length && best && !(suiteStrength(best).forwardSecret && suiteStrength(best).aead)) {
    // Nothing weaker to force because the weak setting is already all there is: no defence, so
    // not "blocked" (retro-decrypt and server-scan show what the weak suite costs).
    return {
      outcome: 'not-applicable',
      reason: `${chain}nothing to downgrade: alice's offer (${offerText}) is already weak at its best — ${describeSuite(best)} — so the attacker relayed it untouched; what that suite costs is shown by ${suiteStrength(best).forwardSecret ? 'server-scan (CBC, MAC-then-encrypt)' : 'retro-decrypt and server-scan (no forward secrecy)'}`,
      summary: 'offer already weak',
      impact: [],
      evidence: [{ kind: 'suites-offered', detail: `alice's ClientHello offers ${offerText}` }, ...positionEvidence(runPos), ...proxyEvidence(obs), ...conversationEvidence(obs)],
      negotiated: n,
      data: { via: 'rewrite', offered: off.suites.map((s) => s.name), rewritten: false },
    };
  }
  if (!kept.length) {
    return {
      outcome: 'blocked',
      reason: `${chain}no weaker suite in the victim's offer: every suite alice offers (${offerText}) is as strong as her best, so stripping the offer could force nothing weaker — the attacker relayed it untouched`,
      summary: 'no weaker suite in the offer',
      impact: [],
      evidence: [{ kind: 'suites-offered', detail: `alice's ClientHello offers ${offerText}` }, ...positionEvidence(runPos), ...proxyEvidence(obs), ...conversationEvidence(obs)],
      negotiated: n,
      data: { via: 'rewrite', offered: off.suites.map((s) => s.name), rewritten: false },
    };
  }
  const aliceConn = aliceConnection(obs);
  // The control is the first ClientHello the proxy saw: a client's first attempt, at the profile's
  // highest version (a retry always follows a failed attempt). alice's last connection may be a
  // fallback retry at a lower version, whose offer the rewrite already made poorer.
  const firstHello = (obs.proxy?.connections ?? []).filter((c) => c.clientHello).sort((a, b) => a.id - b.id)[0];
  const control = firstHello ? await serverChoiceForUntouched(obs.proxy!.engine, firstHello) : { suite: null, detail: 'alice sent no ClientHello through the attacker' };
  const fellBack = obs.clients.alice.fallbackAttempts;
  const flight = aliceConn ? serverFlight(wire(obs.proxy!.engine, aliceConn, 's2c')) : { serverHello: null, alerts: [] };
  const clientAlerts = aliceConn ? serverFlight(wire(obs.proxy!.engine, aliceConn, 'c2s')).alerts : [];
  const chose = flight.serverHello ? (CIPHER_SUITES.get(flight.serverHello.cipherSuite.id) ?? null) : null;
  const got = n?.cipher ? ([...CIPHER_SUITES.values()].find((s) => s.name === n.cipher) ?? null) : null;
  const err = obs.clients.alice.error;
  const refusals = serverRefusals(obs).filter((r) => r.event === 'tls_error' || r.event === 'socket_error');
  const evidence: Evidence[] = [
    { kind: 'suites-offered', detail: `alice's ClientHello offers ${offerText}` },
    { kind: 'suite-before', detail: control.detail },
    { kind: 'suites-rewritten', detail: `the attacker forwarded a ClientHello offering only ${names(kept)}${strippedTls13 ? ', with TLS 1.3 taken out of supported_versions' : ''}` },
    { kind: 'suite-after', detail: flight.serverHello ? `the server answered the rewritten offer with ${flight.serverHello.cipherSuite.name}${chose ? ` — ${describeSuite(chose)}` : ''}` : `the server sent no ServerHello to the rewritten offer${flight.alerts.length ? ` (alert: ${flight.alerts.join(', ')})` : ''}` },
    ...(flight.alerts.length ? [{ kind: 'tls-alert', detail: `the server sent alice ${flight.alerts.join(', ')}` }] : []),
    ...(clientAlerts.length ? [{ kind: 'tls-alert', detail: `alice's client sent ${clientAlerts.join(', ')}` }] : []),
    ...[...new Set(refusals.map((r) => `${r.event} ${String(r.code ?? '')}: ${String(r.message ?? '')}`.slice(0, 300)))].map((detail) => ({ kind: 'server-refusal', detail })),
    ...positionEvidence(runPos),
    ...proxyEvidence(obs),
    ...conversationEvidence(obs),
  ];
  const data = { via: 'rewrite', offered: off.suites.map((s) => s.name), kept: kept.map((s) => s.name), before: control.suite?.name ?? null, serverChose: flight.serverHello?.cipherSuite.name ?? null, after: n?.cipher ?? null };
  if (got && control.suite && compareSuiteStrength(got, control.suite) < 0 && obs.bobReceived === obs.canaryMessage && fellBack.length > 0) {
    // The rewritten handshakes failed, and the client retried lower versions until one worked:
    // the attacker's failures chose alice's suite (the fallback dance, RFC 7507 §1).
    evidence.unshift({ kind: 'client-fallback', detail: `alice's client retried ${fellBack.length} time(s) after failed handshakes (${fellBack.map((f) => `max ${f.maxVersion}: ${f.error}`.slice(0, 160)).join('; ')})` });
    return {
      outcome: 'succeeded',
      reason: `${chain}rewrote alice's cipher offer to ${names(kept)}; the handshakes it broke made her client fall back (client.fallback) until ${n!.protocol}, whose offer has nothing better, and her session ran on ${describeSuite(got)} instead of ${describeSuite(control.suite)} for her untouched offer — the canary went through on the weaker suite`,
      summary: `fell back to ${got.name.replace(/^TLS_/, '').slice(0, 26)}`,
      impact: ['integrity'],
      evidence,
      negotiated: n,
      data: { ...data, fallbackAttempts: fellBack.length },
    };
  }
  if (got && control.suite && compareSuiteStrength(got, control.suite) < 0 && obs.bobReceived === obs.canaryMessage) {
    return {
      outcome: 'succeeded',
      reason: `${chain}rewrote alice's cipher offer to ${names(kept)} and nothing caught it: her session completed on ${n!.protocol} ${describeSuite(got)} (untouched: ${describeSuite(control.suite)}) and the canary went through — the Finished check did not cover the rewritten ClientHello`,
      summary: `forced ${got.name.replace(/^TLS_/, '').slice(0, 30)}`,
      impact: ['integrity'],
      evidence,
      negotiated: n,
      data,
    };
  }
  if (!n) {
    const stopper = rewriteStopper(flight, clientAlerts, err, refusals, chose);
    if (stopper) {
      return {
        outcome: 'blocked',
        reason: `${chain}rewrote alice's cipher offer to ${names(kept)}${strippedTls13 ? ' (and took TLS 1.3 out of supported_versions)' : ''}; ${stopper.text}`,
        summary: CATCH_SUMMARY[stopper.caught],
        impact: [],
        evidence,
        negotiated: null,
        data: { ...data, caughtBy: stopper.caught },
      };
    }
  }
  return {
    outcome: 'error',
    reason: `no verdict: the attacker rewrote the offer to ${names(kept)}, and alice ${n ? `negotiated ${n.protocol} ${n.cipher}` : `stopped with ${err ? `${err.code}: ${err.message}` : 'no error'}`}${control.suite ? ` (untouched: ${control.suite.name})` : ''} — neither a weaker session with the canary through nor a named refusal`,
    summary: 'inconclusive',
    impact: [],
    evidence,
    negotiated: n ?? null,
    data,
  };
}

/** Which rule of TLS caught a rewritten handshake, read from what the two ends said. */
type Catch = 'no-shared-cipher' | 'tls13-key-schedule' | 'downgrade-sentinel' | 'finished' | 'finished-ems' | 'handshake';

function caughtBy(sh: ServerHello | null, observed: string): Catch {
  if (!sh) return 'no-shared-cipher';
  if (sh.selectedVersion === TLS13) return 'tls13-key-schedule';
  // RFC 8446 §4.1.3: a TLS 1.3 server negotiating 1.2 ends its random with "DOWNGRD\x01"; OpenSSL's
  // client refuses it as an inappropriate fallback and sends illegal_parameter.
  if (sh.random.subarray(24).equals(TLS12_DOWNGRADE_SENTINEL) && /inappropriate fallback|illegal.parameter/i.test(observed)) return 'downgrade-sentinel';
  if (/decrypt.error|DIGEST_CHECK_FAILED/i.test(observed)) return 'finished';
  if (/bad.record.mac|DECRYPTION_FAILED|CIPHER_OPERATION_FAILED/i.test(observed)) return sh.extendedMasterSecret ? 'finished-ems' : 'finished';
  return 'handshake';
}

/** What stopped a rewritten handshake, as observed, with the rule that caught it; null when nothing was seen. */
function rewriteStopper(flight: { serverHello: ServerHello | null; alerts: string[] }, clientAlerts: string[], err: { code: string; message: string } | null, refusals: Array<{ event: string; code?: unknown; message?: unknown }>, chose: Readonly<CipherSuiteInfo> | null): { text: string; caught: Catch } | null {
  // alice's and bob's connections fail alike: name each distinct observation once.
  const seen = [
    ...new Set([
      ...flight.alerts.map((a) => `the server's alert ${a}`),
      ...clientAlerts.map((a) => `alice's client's alert ${a}`),
      ...refusals.map((r) => `the server's ${String(r.code ?? r.event)}`),
      ...(err ? [`alice's client's ${err.code}: ${err.message.replace(/^.*?(SSL routines:|$)/, '').slice(0, 100)}`] : []),
    ]),
  ];
  if (!seen.length) return null;
  const what = seen.join('; ');
  const sh = flight.serverHello;
  // alice's own last error decides (a client that falls back retried, and met another rule); the rest only when hers names none.
  const fromAlice = err ? caughtBy(sh, `${err.code} ${err.message}`) : 'handshake';
  const caught = fromAlice !== 'handshake' ? fromAlice : caughtBy(sh, `${what} ${refusals.map((r) => String(r.message ?? '')).join(' ')}`);
  const took = sh ? `the server took ${chose ? describeSuite(chose) : sh.cipherSuite.name} from the rewritten offer, but ` : '';
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

const CATCH_SUMMARY: Record<Catch, string> = {
  'no-shared-cipher': 'refused: no shared cipher',
  'tls13-key-schedule': 'caught: TLS 1.3 transcript',
  'downgrade-sentinel': 'caught: downgrade sentinel',
  finished: 'caught: Finished (transcript)',
  'finished-ems': 'caught: Finished (EMS keys)',
  handshake: 'handshake failed',
};

export const downgradeSuite: Attack = {
  id: 'downgrade-suite',
  title: 'TLS cipher-suite downgrade',
  description:
    "From the strongest position it holds without a premise, the attacker makes the victim's TLS session run the weakest cipher suite the victim offers (static-RSA key exchange < forward-secret CBC < forward-secret AEAD; then a key under 128 bits): with STARTTLS stripped there is no TLS left at all; with TLS terminated under a certificate the victim accepts, its own hop picks that suite; otherwise it rewrites the relayed ClientHello's cipher_suites to the weakest ones. Succeeds only if alice's session is observed on a weaker suite than the server chooses for her untouched offer (or on no TLS); blocked names what stopped it — the Finished check or the TLS 1.3 key schedule catching the rewritten transcript, a server that accepts none of the kept suites, or an offer with nothing weaker in it.",
  applicability(p) {
    return usesTls(p) ? null : 'the profile uses no TLS: there is no cipher-suite offer to downgrade';
  },
  async run(ctx) {
    const pos = await ctx.position();
    if (pos.strippedStarttls) {
      const r = await suiteByStrip(ctx, pos);
      if (r) return r;
    }
    if (pos.tls) return suiteByTermination(ctx, pos, pos.tls.cert);
    return suiteByRewrite(ctx, pos);
  },
};
