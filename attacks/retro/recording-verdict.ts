/**
 * retro-decrypt, the whole recording: every connection a passive tap recorded, analysed with the
 * stolen server key (connection-analysis.ts), and the verdict that follows from what they gave up.
 * Shared by the `retro-decrypt` attack on secchat's own chat and its target variant on a student's
 * app, so both judge a recording by the same rules.
 *
 * Pure: the caller reads the key file and hands over the tap's recorded bytes.
 */
import path from 'node:path';
import type { ProxyConnectionRecord, ProxyEngine } from '../proxy.ts';
import type { Evidence, Verdict } from '../types.ts';
import { analyseConnection, type ConnectionAnalysis } from './connection-analysis.ts';

/** One recorded connection and what the stolen key made of it. */
export interface AnalysedConnection {
  /** the proxy's connection id */
  conn: number;
  /** the victim's address:port */
  clientPeer: string;
  a: ConnectionAnalysis;
}

/**
 * Analyses every connection the tap recorded: the client-wire bytes of each direction (as a
 * passive eavesdropper saw them, handshakes included) with the stolen key, looking for `canary`.
 * Returns one entry per connection record, in the proxy's order.
 */
export function analyseRecording(recording: { connections: ProxyConnectionRecord[]; engine: ProxyEngine }, stolenKeyPem: string, canary: string): AnalysedConnection[] {
  const { engine } = recording;
  return recording.connections.map((rec) => ({
    conn: rec.id,
    clientPeer: rec.clientPeer,
    a: analyseConnection({
      clientToServer: engine.bytes({ conn: rec.id, dir: 'c2s', layer: 'client-wire' }),
      serverToClient: engine.bytes({ conn: rec.id, dir: 's2c', layer: 'client-wire' }),
      serverPrivateKeyPem: stolenKeyPem,
      canary,
    }),
  }));
}

/**
 * The verdict from what the connections gave up, first match wins: the canary recovered anywhere →
 * `succeeded`; a TLS layer, then a channel, that stayed sealed by an ephemeral key exchange →
 * `blocked`; a resumed session → `error`; anything that failed to analyse → `error`.
 * `extra` is the canary evidence (only when recovered).
 */
export function retroVerdict(all: AnalysedConnection[], keyPath: string, canary: string): Pick<Verdict, 'outcome' | 'reason' | 'summary' | 'impact'> & { extra: Evidence[] } {
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
          : // a canary recovered from the channel means the channel opened: its result is there
            `opened with the channel secret the stolen key unwrapped (${hit.a.channel!.cipher ?? '?'})`;
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
