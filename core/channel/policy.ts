/**
 * Negotiation policy of the secure channel: which cipher wins, and the warnings a weak choice
 * produces. The weak settings and their sentences are in the one list, core/weaknesses.ts (the
 * weak ciphers' sentences in the cipher table, ciphers.ts, which that list reads).
 * @module
 */
import type { ChannelCipher, Profile } from '../profile.ts';
import { channelWeaknessWarnings, weakSetting } from '../weaknesses.ts';

/**
 * The weak channel settings other than ciphers, each with its warning: views of the one list in
 * core/weaknesses.ts (kept by name so tests and callers can refer to each sentence).
 */
export const CHANNEL_SETTING_WEAKNESSES = {
  keyExchangeNone: weakSetting('channel-off').weakness,
  keyExchangeRsa: weakSetting('channel-rsa-key-exchange').weakness,
  keyExchangeEcdhe: weakSetting('channel-unsigned-ecdhe').weakness,
  noTranscriptMac: weakSetting('channel-no-transcript-mac').weakness,
  noReplayProtection: weakSetting('channel-no-replay-protection').weakness,
} as const;

/**
 * The cipher the server picks: the first of the server's own list that the client offered (server
 * preference, as with OpenSSL's SSL_OP_CIPHER_SERVER_PREFERENCE).
 * @returns the cipher, or null when they have none in common
 */
export function chooseCipher(serverCiphers: readonly ChannelCipher[], clientOffer: readonly ChannelCipher[]): ChannelCipher | null {
  return serverCiphers.find((c) => clientOffer.includes(c)) ?? null;
}

/** What the two sides agreed on, for reports; identical on both sides after a clean handshake. */
export interface Negotiated {
  keyExchange: Profile['channel']['keyExchange'];
  /** the record cipher; `none` when the channel is off (keyExchange none) */
  cipher: ChannelCipher | 'none';
  transcriptMac: boolean;
  replayProtection: Profile['channel']['replayProtection'];
  /** window mode: this side's accepted clock difference, ms */
  replayWindowMs?: number;
  /** rsa and ecdhe-signed: SPKI pin (`sha256/<base64>`) of the server certificate's key */
  serverCertificateSpkiPin?: string;
  /** one sentence per weak setting in effect (see CHANNEL_SETTING_WEAKNESSES and the cipher table) */
  warnings: string[];
}

/** The warnings for a set of channel settings, most fundamental first (core/weaknesses.ts decides). */
export function channelWarnings(n: Pick<Negotiated, 'keyExchange' | 'cipher' | 'transcriptMac' | 'replayProtection'>): string[] {
  return channelWeaknessWarnings(n);
}
