/**
 * retro-decrypt — "record now, decrypt later", the attack forward secrecy exists to defeat.
 *
 * 1. A passive tap (a relay addon: it changes nothing) records the whole conversation, handshakes
 *    included. The scripted clients are fresh processes' worth of state — no session cache, no
 *    ticket — so every connection makes a full handshake; a resumed one is reported as such.
 * 2. After the conversation has ended, the attacker steals the server's private key: it reads the
 *    lab PKI key file (`pki.server.keyPath`) and nothing else — no key log, no session state.
 * 3. Offline, it decrypts the recording by itself (attacks/retro/connection-analysis.ts): TLS 1.2 RSA key
 *    transport opens (RFC 5246 §7.4.7.1); (EC)DHE and every TLS 1.3 session do not (the key only
 *    signed the handshake); the secure channel's `rsa` mode opens, its `ecdhe*` modes do not.
 *
 * Verdict, from the recording only: `succeeded` when the canary came out; `blocked` when an
 * ephemeral key exchange kept it sealed (the reason names the group read from the recording);
 * `error` when the recording could not be analysed (a resumed session, a suite secchat does not
 * decrypt, a failed derivation). Kept artifacts: `recovered.keylog`, the CLIENT_RANDOM lines secchat
 * derived itself, beside the run's `capture.pcap`.
 *
 * Layers compose: TLS opened with the stolen key may reveal a secure channel inside it, which the
 * key opens again in `rsa` mode and not in `ecdhe*` modes; over `transport: plain` only the channel
 * is there to open.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeKeylogFile } from '../kit/capture.ts';
import { conversationEvidence } from '../kit/evidence.ts';
import { analyseRecording, retroVerdict, type AnalysedConnection } from '../retro/recording-verdict.ts';
import type { Profile } from '../../core/profile.ts';
import { opensslReason } from '../../core/tls-capabilities.ts';
import type { Attack, AttackContext, Evidence, Observations, Verdict } from '../types.ts';

/** File name of the key log secchat derives from the stolen key, in the run's artifact folder. */
export const RECOVERED_KEYLOG_FILE = 'recovered.keylog';

type Analysed = AnalysedConnection;

/** One line on a connection's TLS layer: version, suite, key exchange (group), EMS, outcome. */
export function tlsLine(x: Analysed): string {
  const t = x.a.tls!;
  const where = x.a.tlsStartsAt && x.a.tlsStartsAt.c2s > 0 ? `, TLS after a ${x.a.tlsStartsAt.c2s}-byte plaintext STARTTLS greeting` : '';
  if (!t.version) return `connection ${x.conn} (${x.clientPeer}): ${t.outcome}: ${t.reason}${where}`;
  const kx = t.keyExchange === 'TLS13' ? `TLS 1.3 key share ${t.group ?? '?'}` : t.group ? `${t.keyExchange} ${t.group}` : `${t.keyExchange} key transport`;
  const ems = t.keyExchange === 'TLS13' ? '' : `, extended master secret ${t.extendedMasterSecret ? 'used (RFC 7627: master secret from the session hash)' : 'not used (classic PRF over the randoms)'}`;
  const fin = t.finishedVerified.client && t.finishedVerified.server ? ', both Finished messages verified' : '';
  return `connection ${x.conn} (${x.clientPeer}): ${t.version} ${t.suite}, key exchange ${kx}${ems}${fin}${where} → ${t.outcome}`;
}

export const retroDecrypt: Attack = {
  id: 'retro-decrypt',
  keepsRecordings: true,
  title: 'Record now, decrypt later',
  description:
    'A passive tap records a whole session; afterwards the attacker steals the server private key (reads the key file) and decrypts the recording offline. Succeeds if the canary comes out: RSA key transport is not forward secret; ephemeral (EC)DHE and TLS 1.3 are.',
  applicability(p) {
    if (p.transport === 'plain' && p.channel.keyExchange === 'none') {
      return 'no encryption to break: the chat crosses the network in plaintext, which the passive eavesdropper (mitm-passive) already reads';
    }
    return null;
  },
  async run(ctx) {
    const own = await recordAndAnalyse(ctx);
    // A server's settings, not secchat's client, decide what a recording gives up: when secchat's
    // client kept the session forward secret, replay the conversation with a legacy client that
    // offers only static-RSA suites. Measured like the first: recorded, then decrypted, or refused.
    const legacy = own.v.outcome !== 'succeeded' && ctx.profile.transport !== 'plain' ? await recordAndAnalyse(ctx, legacyClientProfile(ctx.profile)) : null;
    return combine(ctx.profile.name, own, legacy);
  },
};

/**
 * What a legacy TLS client offers: static-RSA key transport only, TLS 1.0 to 1.2 — an old Java or
 * OpenSSL, or a student's Python client after `ctx.set_ciphers('AES256-SHA')`.
 */
export const LEGACY_CLIENT_CIPHERS = 'AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA:@SECLEVEL=0';

/** The victims' profile for the legacy-client variant: the run's profile with a legacy client's TLS offer. */
export function legacyClientProfile(p: Profile): Profile {
  return { ...p, tls: { ...p.tls, minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: LEGACY_CLIENT_CIPHERS, ciphersuites: undefined }, client: { ...p.client, fallback: false } };
}

/** One recorded conversation and what the stolen key made of it. */
export interface Variant {
  legacy: boolean;
  obs: Observations;
  all: Analysed[];
  v: ReturnType<typeof retroVerdict>;
  keyPath: string;
  evidence: Evidence[];
  keyLogLines: string[];
  artifacts: Record<string, string>;
}

async function recordAndAnalyse(ctx: AttackContext, clientProfile?: Profile): Promise<Variant> {
  // 1. Record. The tap only relays; every byte lands in engine.traffic.
  const obs = await ctx.runConversation({ addon: { name: 'retro-decrypt-tap' }, ...(clientProfile ? { clientProfile } : {}) });
  const engine = obs.proxy!.engine;

  // 2. Steal the key — only now that the session is over, and only the key file.
  const keyPath = ctx.pki.server.keyPath;
  const stolenKeyPem = readFileSync(keyPath, 'utf8');

  // 3. Decrypt the recording alone: the client-wire bytes of each connection, both directions.
  const all = analyseRecording(obs.proxy!, stolenKeyPem, ctx.canary);

  const v = retroVerdict(all, keyPath, ctx.canary);
  const recorded = { c2s: engine.bytes({ dir: 'c2s', layer: 'client-wire' }).length, s2c: engine.bytes({ dir: 's2c', layer: 'client-wire' }).length };
  const keyLogLines = all.flatMap((x) => (x.a.tls?.keyLogLine ? [x.a.tls.keyLogLine] : []));
  const evidence = variantEvidence(all, v, keyPath, recorded, keyLogLines, obs);

  const artifacts: Record<string, string> = {};
  if (ctx.artifactDir && keyLogLines.length > 0) {
    const file = path.join(ctx.artifactDir, clientProfile ? LEGACY_KEYLOG_FILE : RECOVERED_KEYLOG_FILE);
    mkdirSync(ctx.artifactDir, { recursive: true });
    writeKeylogFile(file, keyLogLines);
    artifacts[clientProfile ? 'recovered-keylog-legacy-client' : 'recovered-keylog'] = file;
  }
  return { legacy: !!clientProfile, obs, all, v, keyPath, evidence, keyLogLines, artifacts };
}

/**
 * The evidence of one recorded conversation: the canary evidence, what the tap recorded (bytes as
 * on the wire), the stolen key, each connection's TLS and channel layer, the key log lines
 * secchat derived, then the conversation.
 * @param recorded client-wire bytes the tap recorded in each direction
 */
export function variantEvidence(all: Analysed[], v: ReturnType<typeof retroVerdict>, keyPath: string, recorded: { c2s: number; s2c: number }, keyLogLines: string[], obs: Observations): Evidence[] {
  return [
    ...v.extra,
    { kind: 'recording', detail: `the passive tap recorded ${all.length} connection(s): ${recorded.c2s} bytes client→server, ${recorded.s2c} bytes server→client, as on the wire` },
    { kind: 'stolen-key', detail: `after the session ended the attacker read the server private key from ${keyPath} — no key log, no session state` },
    ...all.filter((x) => x.a.tls).map((x) => ({ kind: 'key-exchange', detail: tlsLine(x) })),
    ...all.filter((x) => x.a.channel && x.a.channel.outcome !== 'absent').map((x) => ({ kind: 'channel', detail: `connection ${x.conn}: ${x.a.channel!.outcome}: ${x.a.channel!.reason}` })),
    ...keyLogLines.map((line) => ({ kind: 'derived-keylog', detail: `NSS key log line secchat derived from the stolen key (Wireshark: tls.keylog_file): ${line}` })),
    ...conversationEvidence(obs),
  ];
}

/** File name of the key log derived in the legacy-client variant. */
export const LEGACY_KEYLOG_FILE = 'recovered-legacy-client.keylog';

function variantData(x: Variant) {
  return {
    stolenKeyFile: x.keyPath,
    connections: x.all.map((c) => ({
      conn: c.conn,
      clientPeer: c.clientPeer,
      tls: c.a.tls && {
        outcome: c.a.tls.outcome,
        reason: c.a.tls.reason,
        version: c.a.tls.version,
        suite: c.a.tls.suite,
        keyExchange: c.a.tls.keyExchange,
        group: c.a.tls.group ?? null,
        extendedMasterSecret: c.a.tls.extendedMasterSecret,
        finishedVerified: c.a.tls.finishedVerified,
        startsAtByte: c.a.tlsStartsAt,
        recoveredBytes: { c2s: c.a.tls.clientPlaintext.length, s2c: c.a.tls.serverPlaintext.length },
        notes: c.a.tls.notes,
      },
      channel: c.a.channel && c.a.channel.outcome !== 'absent' ? { outcome: c.a.channel.outcome, keyExchange: c.a.channel.keyExchange, cipher: c.a.channel.cipher, notes: c.a.channel.notes } : null,
      canaryRecovered: c.a.canary ? { dir: c.a.canary.dir, from: c.a.canary.from } : null,
    })),
  };
}

/**
 * One verdict from secchat's own client run and, when it ran, the legacy-client run: the legacy run
 * decides only when it recovered the canary; a legacy client the server refused adds that refusal
 * to the first run's reason.
 */
export function combine(profileName: string, own: Variant, legacy: Variant | null): Verdict {
  // Only the legacy run's lines are marked: secchat's own run reads as it always has.
  const tag = (x: Variant) => (x.legacy ? x.evidence.map((e) => ({ kind: e.kind, detail: `legacy-client variant: ${e.detail}` })) : x.evidence);
  const data: Record<string, unknown> = { variant: 'secchat-client', ...variantData(own) };
  if (legacy) data.legacyClient = { offered: LEGACY_CLIENT_CIPHERS, ...variantData(legacy) };
  const artifacts = { ...own.artifacts, ...(legacy?.artifacts ?? {}) };
  const base = { negotiated: own.obs.clients.alice.negotiated ?? own.obs.clients.bob.negotiated, ...(Object.keys(artifacts).length ? { artifacts } : {}) };
  if (!legacy) return { outcome: own.v.outcome, reason: own.v.reason, summary: own.v.summary, impact: own.v.impact, evidence: own.evidence, ...base, data };
  const legacyHello = { kind: 'variant', detail: `legacy-client variant: alice and bob connected with a legacy TLS client offering only static-RSA suites (${LEGACY_CLIENT_CIPHERS.replace(':@SECLEVEL=0', '')}, TLS 1.0–1.2); the server kept profile ${profileName}` };
  if (legacy.v.outcome === 'succeeded') {
    data.variant = 'legacy-client';
    return {
      outcome: 'succeeded',
      reason: `legacy-client variant: ${legacy.v.reason} (secchat's own client was not exposed: ${own.v.reason}); the server accepts static RSA from any client that asks for it`,
      summary: 'legacy client: decrypted with stolen key',
      impact: legacy.v.impact,
      evidence: [...tag(legacy), legacyHello, ...tag(own)],
      negotiated: legacy.obs.clients.alice.negotiated ?? base.negotiated,
      ...(Object.keys(artifacts).length ? { artifacts } : {}),
      data,
    };
  }
  const err = legacy.obs.clients.alice.error ?? legacy.obs.clients.bob.error;
  const refused = !legacy.obs.clients.alice.connected && err ? `; a legacy client offering only static-RSA suites was refused by the server (${opensslReason(err.message)})` : `; the legacy-client variant gave nothing either (${legacy.v.reason})`;
  return { outcome: own.v.outcome, reason: own.v.reason + refused, summary: own.v.summary, impact: own.v.impact, evidence: [...tag(own), legacyHello, ...tag(legacy)], ...base, data };
}
