/**
 * Men in the middle against the channel: key-share substitution (ecdhe vs ecdhe-signed) and the
 * cipher-offer downgrade (transcriptMac on vs off).
 */
import { describe, expect, it } from 'vitest';
import { CHANNEL_CIPHER_SPECS } from '../core/channel/ciphers.ts';
import { channelCodeOf } from '../core/channel/errors.ts';
import type { SealedFrame } from '../core/channel/handshake-messages.ts';
import { ChannelClient, ChannelServer, type VerifyCertificate } from '../core/channel/handshake.ts';
import { x25519KeyPairFromScalar } from '../core/channel/keyexchange.ts';
import { CHANNEL_SETTING_WEAKNESSES } from '../core/channel/policy.ts';
import type { ChannelCipher } from '../core/profile.ts';
import { channelSettings, makePair } from './helpers/channel-fixtures.ts';
import { acceptAnyCertificate, testPki, trustCa } from './helpers/channel-pki.ts';
import { pump } from './helpers/channel-pump.ts';

const wire = (f: unknown): SealedFrame => JSON.parse(JSON.stringify(f));

/**
 * A terminating man in the middle: it plays server to the client (with the attacker's certificate)
 * and client to the server, so it has its own X25519 share and its own keys with each side.
 */
function terminatingMitm(keyExchange: 'ecdhe' | 'ecdhe-signed', clientVerifier: VerifyCertificate, transcriptMac = true) {
  const pki = testPki();
  const settings = channelSettings({ keyExchange, transcriptMac });
  const client = new ChannelClient({ profileChannel: settings, verifyCertificate: clientVerifier });
  const server = new ChannelServer({ profileChannel: settings, serverCert: pki.server });
  const mitmFacingClient = new ChannelServer({ profileChannel: settings, serverCert: pki.attacker });
  const mitmFacingServer = new ChannelClient({ profileChannel: settings, verifyCertificate: acceptAnyCertificate });
  const left = pump(client, mitmFacingClient);
  const right = pump(mitmFacingServer, server);
  return { client, server, mitmFacingClient, mitmFacingServer, left, right };
}

describe('key share substitution', () => {
  it.each([true, false])('ecdhe (transcriptMac %s): both ends complete, the man in the middle reads and rewrites everything', (tm) => {
    const m = terminatingMitm('ecdhe', acceptAnyCertificate, tm);
    expect(m.left.errors).toEqual({});
    expect(m.right.errors).toEqual({});
    expect(m.client.established && m.server.established).toBe(true);
    // the client's hello carried its share, but the server saw the attacker's
    expect(m.right.wire[0].frame.share).not.toBe(m.left.wire[0].frame.share);
    expect(m.client.negotiated?.warnings).toContain(CHANNEL_SETTING_WEAKNESSES.keyExchangeEcdhe);

    const fromClient = m.client.seal({ type: 'msg', text: 'PAY 100' });
    const read = m.mitmFacingClient.open(wire(fromClient));
    expect(read).toEqual({ type: 'msg', text: 'PAY 100' });
    expect(m.server.open(wire(m.mitmFacingServer.seal({ ...read, text: 'PAY 900' })))).toEqual({ type: 'msg', text: 'PAY 900' });
    const reply = m.mitmFacingClient.seal(m.mitmFacingServer.open(wire(m.server.seal({ type: 'msg', text: 'ok' }))));
    expect(m.client.open(wire(reply))).toEqual({ type: 'msg', text: 'ok' });
  });

  it('ecdhe-signed with a verifying client: the attacker certificate is certificate_rejected', () => {
    const m = terminatingMitm('ecdhe-signed', trustCa(testPki().ca.certPem));
    expect(channelCodeOf(m.left.errors.client)).toBe('certificate_rejected');
    expect(m.client.established).toBe(false);
  });

  it('ecdhe-signed with client.verify none: the same attack succeeds (the signature proves nothing without a checked certificate)', () => {
    const m = terminatingMitm('ecdhe-signed', acceptAnyCertificate);
    expect(m.left.errors).toEqual({});
    expect(m.mitmFacingClient.open(wire(m.client.seal({ type: 'msg', text: 'secret' })))).toEqual({ type: 'msg', text: 'secret' });
    expect(m.client.negotiated?.serverCertificateSpkiPin).not.toBe(m.server.negotiated?.serverCertificateSpkiPin);
  });

  it('ecdhe-signed, surgical: swapping only the server share under the real certificate is bad_signature', () => {
    const attackerShare = x25519KeyPairFromScalar(Buffer.alloc(32, 0x42)).publicRaw.toString('base64');
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe-signed' } });
    const r = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_server_hello' ? { ...e.frame, share: attackerShare } : e.frame) });
    expect(channelCodeOf(r.errors.client)).toBe('bad_signature');
    expect(r.errors.server?.details.peerCode).toBe('bad_signature');
  });

  it('ecdhe-signed: a signature replayed from another session does not verify (randoms are signed)', () => {
    const first = makePair({ both: { keyExchange: 'ecdhe-signed' } });
    const recorded = pump(first.client, first.server).wire[1].frame;
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe-signed' } });
    const r = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_server_hello' ? { ...e.frame, share: recorded.share, signature: recorded.signature } : e.frame) });
    expect(channelCodeOf(r.errors.client)).toBe('bad_signature');
  });

  it('rewriting keyExchange ecdhe-signed -> ecdhe in the hello is parameter_mismatch (each side enforces its own profile)', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe-signed' } });
    const r = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_hello' ? { ...e.frame, keyExchange: 'ecdhe' } : e.frame) });
    expect(channelCodeOf(r.errors.server)).toBe('parameter_mismatch');
  });
});

describe('cipher-offer downgrade', () => {
  const strongFirst = (weak: ChannelCipher) => ['aes-256-gcm', 'chacha20-poly1305', weak] as ChannelCipher[];
  const offerOnly = (weak: ChannelCipher) => (e: { frame: any }) => (e.frame.type === 'ch_hello' ? { ...e.frame, ciphers: [weak] } : e.frame);

  it.each(['aes-128-cbc', 'null'] as ChannelCipher[])('to %s succeeds without transcriptMac when both lists hold it, with a warning', (weak) => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe-signed', transcriptMac: false, ciphers: strongFirst(weak) } });
    const r = pump(client, server, { tamper: offerOnly(weak) });
    expect(r.errors).toEqual({});
    expect(client.negotiated?.cipher).toBe(weak);
    expect(server.negotiated?.cipher).toBe(weak);
    expect(client.negotiated?.warnings).toContain(CHANNEL_CIPHER_SPECS[weak].weakness);
    expect(client.negotiated?.warnings).toContain(CHANNEL_SETTING_WEAKNESSES.noTranscriptMac);
    // and the weak cipher is then exploitable: flip the IV (cbc) or edit the text (null)
    const f = wire(client.seal({ text: 'PAY 100', type: 'msg' }));
    if (weak === 'null') f.plaintext = f.plaintext!.replace('100', '900');
    else {
      const iv = Buffer.from(f.iv!, 'base64');
      iv['{"text":"PAY '.length] ^= '1'.charCodeAt(0) ^ '9'.charCodeAt(0);
      f.iv = iv.toString('base64');
    }
    expect(server.open(f)).toEqual({ text: 'PAY 900', type: 'msg' });
  });

  it.each(['aes-128-cbc', 'null'] as ChannelCipher[])('to %s is transcript_mismatch with transcriptMac', (weak) => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe-signed', transcriptMac: true, ciphers: strongFirst(weak) } });
    const r = pump(client, server, { tamper: offerOnly(weak) });
    expect(channelCodeOf(r.errors.server)).toBe('transcript_mismatch');
    expect(r.errors.client?.details.peerCode).toBe('transcript_mismatch');
    expect(client.established || server.established).toBe(false);
  });

  it('with transcriptMac, reordering the offer (same ciphers) is caught too', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe', ciphers: ['aes-256-gcm', 'aes-128-gcm'] }, server: { ciphers: ['aes-128-gcm', 'aes-256-gcm'] } });
    const r = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_hello' ? { ...e.frame, ciphers: ['aes-128-gcm'] } : e.frame) });
    expect(channelCodeOf(r.errors.server)).toBe('transcript_mismatch');
  });

  it('fails without transcriptMac when the client never offered the weak cipher (illegal_parameter)', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe', transcriptMac: false }, client: { ciphers: ['aes-256-gcm'] }, server: { ciphers: ['aes-256-gcm', 'null'] } });
    const r = pump(client, server, { tamper: offerOnly('null') });
    expect(channelCodeOf(r.errors.client)).toBe('illegal_parameter');
  });

  it("fails when the server's list lacks the weak cipher (no_common_cipher)", () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe', transcriptMac: false }, client: { ciphers: ['aes-256-gcm', 'null'] }, server: { ciphers: ['aes-256-gcm'] } });
    const r = pump(client, server, { tamper: offerOnly('null') });
    expect(channelCodeOf(r.errors.server)).toBe('no_common_cipher');
  });
});
