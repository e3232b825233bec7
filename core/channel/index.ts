/**
 * The application-layer secure channel: a handshake and record protection carried in chat frames,
 * sans-I/O. Start at `handshake.ts`; the design is in docs/channel.md.
 * @module
 */
export { ChannelClient, ChannelServer, type ChannelActions, type ChannelOptions, type ChannelState, type CertificateVerdict, type VerifyCertificate } from './handshake.ts';
export { CHANNEL_ERROR_CODES, channelCodeOf, channelError, channelErrorFrame, type ChannelErrorCode, type ChErrorFrame } from './errors.ts';
export { CHANNEL_CIPHER_SPECS, WEAK_CHANNEL_CIPHERS, openRecord, sealRecord, type ChannelCipherSpec, type RecordParts } from './ciphers.ts';
export { CHANNEL_FRAME_TYPES, canonicalJson, isChannelFrame, transcriptHash, type AppFrame, type ChannelFrame, type SealedFrame } from './handshake-messages.ts';
export { deriveSessionKeys, hkdfSha256, type SessionKeys } from './kdf.ts';
export { CHANNEL_SETTING_WEAKNESSES, channelWarnings, chooseCipher, type Negotiated } from './policy.ts';
export { buildSealedFrame, openSealedFrame, parseSealedFrame, sealedAad, SEALED_AAD_LABEL } from './sealed-frames.ts';
export { openRecordedFrame, unwrapRecordedRsaKey, type Direction, type RecordedSession } from './stolen-key-decrypt.ts';
