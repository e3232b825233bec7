/**
 * Crafted retro-decrypt results for verdict tests (attacks/retro/recording-verdict.ts): one TLS
 * result, one channel result, one analysed connection, with the fields a test does not name set
 * to a decrypted TLS 1.2 RSA key-transport session.
 */
import type { AnalysedConnection } from '../../attacks/retro/recording-verdict.ts';
import type { ConnectionAnalysis } from '../../attacks/retro/connection-analysis.ts';
import type { RetroDecryptResult } from '../../attacks/retro/tls12-decrypt.ts';
import type { ChannelRetroResult } from '../../attacks/retro/channel-decrypt.ts';

/** A TLS retro-decrypt result: TLSv1.2 RSA key transport unless `extra` says otherwise. */
export function tlsResult(outcome: RetroDecryptResult['outcome'], reason: string, extra: Partial<RetroDecryptResult> = {}): RetroDecryptResult {
  return {
    outcome,
    reason,
    keyExchange: 'RSA',
    version: 'TLSv1.2',
    suite: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
    extendedMasterSecret: true,
    clientPlaintext: Buffer.alloc(0),
    serverPlaintext: Buffer.alloc(0),
    finishedVerified: { client: true, server: true },
    notes: [],
    ...extra,
  };
}

/** A secure-channel retro-decrypt result with no frames. */
export function channelResult(outcome: ChannelRetroResult['outcome'], keyExchange: string, reason: string, cipher: string | null = 'aes-256-gcm'): ChannelRetroResult {
  return { outcome, keyExchange, reason, cipher, clientFrames: [], serverFrames: [], notes: [] };
}

/** Connection `id` (client at 127.0.0.1:5000+id) with the given parts of its analysis. */
export function analysed(id: number, a: Partial<ConnectionAnalysis>): AnalysedConnection {
  return { conn: id, clientPeer: `127.0.0.1:${5000 + id}`, a: { tlsStartsAt: null, tls: null, channel: null, canary: null, ...a } };
}
