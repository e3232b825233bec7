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
import { writeKeylogFile } from '../capture.ts';
import { conversationEvidence } from '../evidence.ts';
import { analyseConnection, type ConnectionAnalysis } from '../retro/connection-analysis.ts';
import type { Attack, Evidence, Verdict } from '../types.ts';

/** File name of the key log secchat derives from the stolen key, in the run's artifact folder. */
export const RECOVERED_KEYLOG_FILE = 'recovered.keylog';

/** One recorded connection and what the stolen key made of it. */
export interface AnalysedConnection {
  /** the proxy's connection id */
  conn: number;
  /** the victim's address:port */
  clientPeer: string;
  a: ConnectionAnalysis;
}
type Analysed = AnalysedConnection;

/** One line on a connection's TLS layer: version, suite, key exchange (group), EMS, outcome. */
function tlsLine(x: Analysed): string {
  const t = x.a.tls!;
  const where = x.a.tlsStartsAt && x.a.tlsStartsAt.c2s > 0 ? `, TLS after a ${x.a.tlsStartsAt.c2s}-byte plaintext STARTTLS greeting` : '';
  if (!t.version) return `connection ${x.conn} (${x.clientPeer}): ${t.outcome}: ${t.reason}${where}`;
  const kx = t.keyExchange === 'TLS13' ? `TLS 1.3 key share ${t.group ?? '?'}` : t.group ? `${t.keyExchange} ${t.group}` : `${t.keyExchange} key transport`;
  const ems = t.keyExchange === 'TLS13' ? '' : `, extended master secret ${t.extendedMasterSecret ? 'used (RFC 7627: master secret from the session hash)' : 'not used (classic PRF over the randoms)'}`;
  const fin = t.finishedVerified.client && t.finishedVerified.server ? ', both Finished messages verified' : '';
  return `connection ${x.conn} (${x.clientPeer}): ${t.version} ${t.suite}, key exchange ${kx}${ems}${fin}${where} → ${t.outcome}`;
}

/**
 * The verdict from what the connections gave up, first match wins: the canary recovered anywhere →
 * `succeeded`; a TLS layer, then a channel, that stayed sealed by an ephemeral key exchange →
 * `blocked`; a resumed session → `error`; anything that failed to analyse → `error`.
 * `extra` is the canary evidence (only when recovered).
 */
export function retroVerdict(all: Analysed[], keyPath: string, canary: string): Pick<Verdict, 'outcome' | 'reason' | 'summary' | 'impact'> & { extra: Evidence[] } {
  const extra: Evidence[] = [];
  const hit = all.find((x) => x.a.canary);
  if (hit) {
    const c = hit.a.canary!;
    const t = hit.a.tls;
    const how =
      c.from === 'clear'
        ? 'the recorded bytes were never encrypted (no key needed)'
        : c.from === 'tls'
          ? `decrypted with keys derived from the stolen key (${t!.version} ${t!.suite}, RSA key transport)`
          : `opened with the channel secret the stolen key unwrapped (${hit.a.channel?.cipher ?? '?'})`;
    extra.push({ kind: 'canary-recovered', detail: `canary ${canary} recovered from the recording of connection ${hit.conn} (${c.dir}), ${how}: …${c.excerpt}…` });
    if (c.from === 'clear') {
      return { outcome: 'succeeded', reason: 'the recorded session was never encrypted: the canary is readable without the stolen key', summary: 'canary read: never encrypted', impact: ['confidentiality'], extra };
    }
    const tlsKx = t?.outcome === 'decrypted' ? `RSA key transport (${t.version} ${t.suite}${t.extendedMasterSecret ? ', with' : ', without'} extended master secret)` : '';
    const what =
      c.from === 'tls' ? `${tlsKx} is not forward secret` : tlsKx ? `${tlsKx} and the secure channel's rsa key exchange inside it are not forward secret` : "the secure channel's rsa key exchange is not forward secret";
    return {
      outcome: 'succeeded',
      reason: `the server key, stolen after the session, decrypted the recording: ${what} — the canary was in the recovered plaintext`,
      summary: c.from === 'tls' ? 'recording decrypted with stolen key' : 'channel opened with stolen key',
      impact: ['confidentiality'],
      extra,
    };
  }
  const eph = all.find((x) => x.a.tls?.outcome === 'ephemeral');
  if (eph) {
    const t = eph.a.tls!;
    return { outcome: 'blocked', reason: `${t.reason}; the key read from ${path.basename(keyPath)} cannot open the recording`, summary: `ephemeral ${t.group ?? t.keyExchange}: forward secret`.slice(0, 40), impact: [], extra };
  }
  const ephCh = all.find((x) => x.a.channel?.outcome === 'ephemeral');
  if (ephCh) {
    const under = ephCh.a.tls?.outcome === 'decrypted' ? 'TLS decrypted with the stolen key, but ' : '';
    return { outcome: 'blocked', reason: `${under}${ephCh.a.channel!.reason}: the recorded messages stay sealed`, summary: `channel ${ephCh.a.channel!.keyExchange}: forward secret`.slice(0, 40), impact: [], extra };
  }
  const resumed = all.find((x) => x.a.tls?.outcome === 'resumed');
  if (resumed) {
    return { outcome: 'error', reason: `the tap recorded a resumed session, not a full handshake: ${resumed.a.tls!.reason}`, summary: 'recording holds a resumed session', impact: [], extra };
  }
  const failed = all.find((x) => x.a.tls && x.a.tls.outcome !== 'decrypted') ?? all.find((x) => x.a.channel?.outcome === 'failed');
  if (failed) {
    const r = failed.a.tls && failed.a.tls.outcome !== 'decrypted' ? failed.a.tls.reason : failed.a.channel!.reason;
    return { outcome: 'error', reason: `connection ${failed.conn}: secchat could not analyse the recording: ${r}`, summary: 'recording not analysed', impact: [], extra };
  }
  const opened = all.some((x) => x.a.tls?.outcome === 'decrypted' || x.a.channel?.outcome === 'decrypted');
  return {
    outcome: 'error',
    reason: opened ? 'the recording decrypted, but the canary was not in it: the conversation did not carry it' : 'nothing was recorded to decrypt',
    summary: 'no canary in the recording',
    impact: [],
    extra,
  };
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
    // 1. Record. The tap only relays; every byte lands in engine.traffic.
    const obs = await ctx.runConversation({ addon: { name: 'retro-decrypt-tap' } });
    const engine = obs.proxy!.engine;

    // 2. Steal the key — only now that the session is over, and only the key file.
    const keyPath = ctx.pki.server.keyPath;
    const stolenKeyPem = readFileSync(keyPath, 'utf8');

    // 3. Decrypt the recording alone: the client-wire bytes of each connection, both directions.
    const all: Analysed[] = obs.proxy!.connections.map((rec) => ({
      conn: rec.id,
      clientPeer: rec.clientPeer,
      a: analyseConnection({
        clientToServer: engine.bytes({ conn: rec.id, dir: 'c2s', layer: 'client-wire' }),
        serverToClient: engine.bytes({ conn: rec.id, dir: 's2c', layer: 'client-wire' }),
        serverPrivateKeyPem: stolenKeyPem,
        canary: ctx.canary,
      }),
    }));

    const v = retroVerdict(all, keyPath, ctx.canary);
    const c2sBytes = engine.bytes({ dir: 'c2s', layer: 'client-wire' }).length;
    const s2cBytes = engine.bytes({ dir: 's2c', layer: 'client-wire' }).length;
    const keyLogLines = all.flatMap((x) => (x.a.tls?.keyLogLine ? [x.a.tls.keyLogLine] : []));
    const evidence: Evidence[] = [
      ...v.extra,
      { kind: 'recording', detail: `the passive tap recorded ${all.length} connection(s): ${c2sBytes} bytes client→server, ${s2cBytes} bytes server→client, as on the wire` },
      { kind: 'stolen-key', detail: `after the session ended the attacker read the server private key from ${keyPath} — no key log, no session state` },
      ...all.filter((x) => x.a.tls).map((x) => ({ kind: 'key-exchange', detail: tlsLine(x) })),
      ...all.filter((x) => x.a.channel && x.a.channel.outcome !== 'absent').map((x) => ({ kind: 'channel', detail: `connection ${x.conn}: ${x.a.channel!.outcome}: ${x.a.channel!.reason}` })),
      ...keyLogLines.map((line) => ({ kind: 'derived-keylog', detail: `NSS key log line secchat derived from the stolen key (Wireshark: tls.keylog_file): ${line}` })),
      ...conversationEvidence(obs),
    ];

    const artifacts: Record<string, string> = {};
    if (ctx.artifactDir && keyLogLines.length > 0) {
      const file = path.join(ctx.artifactDir, RECOVERED_KEYLOG_FILE);
      mkdirSync(ctx.artifactDir, { recursive: true });
      writeKeylogFile(file, keyLogLines);
      artifacts['recovered-keylog'] = file;
    }

    return {
      outcome: v.outcome,
      reason: v.reason,
      summary: v.summary,
      impact: v.impact,
      evidence,
      negotiated: obs.clients.alice.negotiated ?? obs.clients.bob.negotiated,
      ...(Object.keys(artifacts).length ? { artifacts } : {}),
      data: {
        stolenKeyFile: keyPath,
        connections: all.map((x) => ({
          conn: x.conn,
          clientPeer: x.clientPeer,
          tls: x.a.tls && {
            outcome: x.a.tls.outcome,
            reason: x.a.tls.reason,
            version: x.a.tls.version,
            suite: x.a.tls.suite,
            keyExchange: x.a.tls.keyExchange,
            group: x.a.tls.group ?? null,
            extendedMasterSecret: x.a.tls.extendedMasterSecret,
            finishedVerified: x.a.tls.finishedVerified,
            startsAtByte: x.a.tlsStartsAt,
            recoveredBytes: { c2s: x.a.tls.clientPlaintext.length, s2c: x.a.tls.serverPlaintext.length },
            notes: x.a.tls.notes,
          },
          channel: x.a.channel && x.a.channel.outcome !== 'absent' ? { outcome: x.a.channel.outcome, keyExchange: x.a.channel.keyExchange, cipher: x.a.channel.cipher, notes: x.a.channel.notes } : null,
          canaryRecovered: x.a.canary ? { dir: x.a.canary.dir, from: x.a.canary.from } : null,
        })),
      },
    };
  },
};
