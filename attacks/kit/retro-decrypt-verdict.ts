/**
 * The `retro-decrypt` verdict from what the run observed (attacks/plugins/retro-decrypt.ts records,
 * steals the key and decrypts): each recorded conversation's evidence (the key exchange of every
 * connection, the channel layer, the key log lines secchat derived) and the one verdict joining
 * secchat's own client run with the legacy-client run. The recording's own verdict — canary
 * recovered or which key exchange kept it sealed — is attacks/retro/recording-verdict.ts; this
 * module only decides how the two runs combine: the legacy run decides when it recovered the
 * canary; a legacy client the server accepted whose recording could not be judged leaves no verdict
 * (never "blocked" on the weaker client's word alone); a legacy client the server refused adds that
 * refusal to the first run's reason.
 * Pure, so each rule is unit-tested with crafted analyses (test/retro-decrypt-verdict.test.ts) and
 * held to a mutation score (docs/testing.md).
 */
import type { AnalysedConnection, retroVerdict } from '../retro/recording-verdict.ts';
import { opensslReason } from '../../core/tls-capabilities.ts';
import { conversationEvidence } from './evidence.ts';
import type { Evidence, Observations, Verdict } from '../types.ts';

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

/**
 * What a legacy TLS client offers: static-RSA key transport only, TLS 1.0 to 1.2 — an old Java or
 * OpenSSL, or a student's Python client after `ctx.set_ciphers('AES256-SHA')`.
 */
export const LEGACY_CLIENT_CIPHERS = 'AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA:@SECLEVEL=0';

/** One recorded conversation and what the stolen key made of it. */
export interface Variant {
  /** the victims used a legacy client offering only static-RSA suites ({@link LEGACY_CLIENT_CIPHERS}) */
  legacy: boolean;
  /** what the conversation observed (clients' errors and negotiated TLS) */
  obs: Observations;
  /** every recorded connection and what the stolen key made of it */
  all: Analysed[];
  /** the recording's verdict (attacks/retro/recording-verdict.ts) */
  v: ReturnType<typeof retroVerdict>;
  /** the key file the attacker read */
  keyPath: string;
  /** this run's evidence ({@link variantEvidence}) */
  evidence: Evidence[];
  /** NSS key log lines secchat derived from the stolen key */
  keyLogLines: string[];
  /** files kept, by name (the derived key log) */
  artifacts: Record<string, string>;
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

/** The run's measured data: the stolen key file and, per connection, each layer's outcome and what came out. */
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
 * decides when it recovered the canary (succeeded) or when its client connected and its recording
 * could not be judged (error); a legacy client the server refused adds that refusal to the first
 * run's reason.
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
  if (legacy.v.outcome === 'error' && legacy.obs.clients.alice.connected) {
    // The stronger attack ran — a client the server accepted with static RSA only — and could not be
    // judged: secchat's own client's result does not say the recording resists, so no "blocked".
    return {
      outcome: 'error',
      reason: `no verdict: a legacy client offering only static-RSA suites connected, but its recording could not be judged (${legacy.v.reason}); secchat's own client: ${own.v.reason}`,
      summary: 'legacy-client run inconclusive',
      impact: [],
      evidence: [...tag(legacy), legacyHello, ...tag(own)],
      ...base,
      data,
    };
  }
  const err = legacy.obs.clients.alice.error ?? legacy.obs.clients.bob.error;
  const refused = !legacy.obs.clients.alice.connected && err ? `; a legacy client offering only static-RSA suites was refused by the server (${opensslReason(err.message)})` : `; the legacy-client variant gave nothing either (${legacy.v.reason})`;
  return { outcome: own.v.outcome, reason: own.v.reason + refused, summary: own.v.summary, impact: own.v.impact, evidence: [...tag(own), legacyHello, ...tag(legacy)], ...base, data };
}
