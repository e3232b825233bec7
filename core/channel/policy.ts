/**
 * Negotiation policy of the secure channel: which cipher wins, and the warnings a weak choice
 * produces. Every deliberately weak channel setting is listed here (settings) or in the cipher
 * table (`ciphers.ts`), each with the sentence that is shown and recorded in reports.
 * @module
 */
import type { ChannelCipher, Profile } from '../profile.ts';
import { CHANNEL_CIPHER_SPECS } from './ciphers.ts';

/** The weak channel settings other than ciphers, each with its warning. */
export const CHANNEL_SETTING_WEAKNESSES = {
  keyExchangeNone: 'channel keyExchange none: the channel is off and chat frames travel without its protection',
  keyExchangeRsa: 'channel keyExchange rsa has no forward secrecy: whoever later obtains the server key decrypts every recorded session',
  keyExchangeEcdhe: 'channel keyExchange ecdhe is unauthenticated: a man in the middle can substitute its own key share and read everything',
  noTranscriptMac: 'channel transcriptMac is off: nothing checks the handshake, so a man in the middle can downgrade the cipher offer',
  noReplayProtection: 'channel replayProtection none: a recorded sealed frame can be replayed and is accepted again',
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

/** The warnings for a set of channel settings, most fundamental first. */
export function channelWarnings(n: Pick<Negotiated, 'keyExchange' | 'cipher' | 'transcriptMac' | 'replayProtection'>): string[] {
  if (n.keyExchange === 'none') return [CHANNEL_SETTING_WEAKNESSES.keyExchangeNone];
  const w: string[] = [];
  if (n.keyExchange === 'rsa') w.push(CHANNEL_SETTING_WEAKNESSES.keyExchangeRsa);
  if (n.keyExchange === 'ecdhe') w.push(CHANNEL_SETTING_WEAKNESSES.keyExchangeEcdhe);
  if (n.cipher !== 'none') {
    const weakness = CHANNEL_CIPHER_SPECS[n.cipher].weakness;
    if (weakness) w.push(weakness);
  }
  if (!n.transcriptMac) w.push(CHANNEL_SETTING_WEAKNESSES.noTranscriptMac);
  if (n.replayProtection === 'none') w.push(CHANNEL_SETTING_WEAKNESSES.noReplayProtection);
  return w;
}
