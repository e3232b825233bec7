import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_CIPHER_SPECS } from '../core/channel/ciphers.ts';
import { CHANNEL_ERROR_CODES, channelCodeOf, channelErrorFrame } from '../core/channel/errors.ts';
import { ChannelClient, ChannelServer } from '../core/channel/handshake.ts';
import { CHANNEL_SETTING_WEAKNESSES } from '../core/channel/policy.ts';
import { ERROR_CODES, SecchatError, UsageError } from '../core/errors.ts';
import { CHANNEL_CIPHERS } from '../core/profile.ts';
import { channelSettings, makePair } from './helpers/channel-fixtures.ts';
import { acceptAnyCertificate, pinVerifier, testPki } from './helpers/channel-pki.ts';
import { manualClock, pump, type WireEntry } from './helpers/channel-pump.ts';

const KEY_EXCHANGES = ['none', 'rsa', 'ecdhe', 'ecdhe-signed'] as const;
const REPLAY = ['none', 'sequence', 'window'] as const;

/** Runs `fn`, expecting a SecchatError(CHANNEL) with this channelCode; returns it. */
function expectChannelError(fn: () => unknown, channelCode: string): SecchatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecchatError);
    expect((err as SecchatError).code).toBe(ERROR_CODES.CHANNEL);
    expect(channelCodeOf(err)).toBe(channelCode);
    return err as SecchatError;
  }
  throw new Error(`expected channel error ${channelCode}, nothing was thrown`);
}

const matrix = KEY_EXCHANGES.flatMap((kx) => CHANNEL_CIPHERS.flatMap((cipher) => REPLAY.flatMap((replay) => [true, false].map((tm) => [kx, cipher, replay, tm] as const))));

describe('handshake round trip: every keyExchange x cipher x replayProtection x transcriptMac', () => {
  it.each(matrix)('%s / %s / replay %s / transcriptMac %s', (kx, cipher, replay, tm) => {
    const clock = manualClock();
    const { client, server } = makePair({ both: { keyExchange: kx, ciphers: [cipher], replayProtection: replay, transcriptMac: tm }, now: clock.now });
    const hs = pump(client, server);
    expect(hs.errors).toEqual({});
    expect(client.established && server.established).toBe(true);

    const types = hs.wire.map((e) => `${e.from}:${e.frame.type}`);
    if (kx === 'none') {
      expect(types).toEqual([]);
      expect(client.negotiated).toMatchObject({ keyExchange: 'none', cipher: 'none', warnings: [CHANNEL_SETTING_WEAKNESSES.keyExchangeNone] });
    } else {
      const expected = ['client:ch_hello', 'server:ch_server_hello'];
      if (kx === 'rsa') expected.push('client:ch_key');
      if (tm) expected.push('client:ch_finished', 'server:ch_finished');
      expect(types).toEqual(expected);
      expect(client.negotiated).toEqual(server.negotiated);
      const n = client.negotiated!;
      expect(n).toMatchObject({ keyExchange: kx, cipher, transcriptMac: tm, replayProtection: replay });
      expect(n.serverCertificateSpkiPin !== undefined).toBe(kx === 'rsa' || kx === 'ecdhe-signed');
      const weakness = CHANNEL_CIPHER_SPECS[cipher].weakness;
      if (weakness) expect(n.warnings).toContain(weakness);
      expect(n.warnings.includes(CHANNEL_SETTING_WEAKNESSES.noTranscriptMac)).toBe(!tm);
      expect(n.warnings.includes(CHANNEL_SETTING_WEAKNESSES.noReplayProtection)).toBe(replay === 'none');
      expect(n.warnings.includes(CHANNEL_SETTING_WEAKNESSES.keyExchangeEcdhe)).toBe(kx === 'ecdhe');
      expect(n.warnings.includes(CHANNEL_SETTING_WEAKNESSES.keyExchangeRsa)).toBe(kx === 'rsa');
    }

    const toServer = [0, 1, 2].map((i) => ({ type: 'msg', text: `hello ${i} ünïcödé`, n: i }));
    const toClient = [0, 1, 2].map((i) => ({ type: 'msg', from: 'server', text: 'x'.repeat(40 * i) }));
    const initial: WireEntry[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(5);
      initial.push({ from: 'client', frame: client.seal(toServer[i]) }, { from: 'server', frame: server.seal(toClient[i]) });
    }
    const app = pump(client, server, { start: false, initial });
    expect(app.errors).toEqual({});
    expect(app.delivered.server).toEqual(toServer);
    expect(app.delivered.client).toEqual(toClient);
    if (kx !== 'none') expect(app.wire.every((e) => e.frame.type === 'sealed')).toBe(true);
  });
});

describe('negotiation', () => {
  it("the server picks the first cipher of its own list that the client offered", () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe' }, client: { ciphers: ['aes-256-gcm', 'chacha20-poly1305', 'aes-128-gcm'] }, server: { ciphers: ['aes-128-gcm', 'chacha20-poly1305'] } });
    pump(client, server);
    expect(client.negotiated?.cipher).toBe('aes-128-gcm');
  });

  it('no_common_cipher: the server closes and tells the client, which closes too', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe' }, client: { ciphers: ['aes-256-gcm'] }, server: { ciphers: ['chacha20-poly1305'] } });
    const r = pump(client, server);
    expect(channelCodeOf(r.errors.server)).toBe('no_common_cipher');
    expect(r.wire.at(-1)?.frame).toEqual({ type: 'ch_error', code: 'no_common_cipher', message: CHANNEL_ERROR_CODES.no_common_cipher });
    expect(channelCodeOf(r.errors.client)).toBe('peer_error');
    expect(r.errors.client?.details.peerCode).toBe('no_common_cipher');
    expect(client.state).toBe('closed');
    expect(server.state).toBe('closed');
    expectChannelError(() => client.seal({ type: 'msg' }), 'closed');
    expectChannelError(() => server.receive({ type: 'ch_hello' }), 'closed');
  });

  it.each([
    ['keyExchange', { keyExchange: 'ecdhe' }, { keyExchange: 'ecdhe-signed' }],
    ['transcriptMac', { transcriptMac: false }, { transcriptMac: true }],
    ['replayProtection', { replayProtection: 'none' }, { replayProtection: 'sequence' }],
  ] as const)('parameter_mismatch when the peers differ in %s', (setting, c, s) => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe' }, client: c, server: s });
    const r = pump(client, server);
    const err = r.errors.server!;
    expect(channelCodeOf(err)).toBe('parameter_mismatch');
    expect(err.details.mismatches).toEqual([expect.objectContaining({ setting })]);
  });

  it('illegal_parameter when the server "chooses" a cipher the client did not offer', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe', transcriptMac: false }, client: { ciphers: ['aes-256-gcm'] } });
    const r = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_server_hello' ? { ...e.frame, cipher: 'null' } : e.frame) });
    expect(channelCodeOf(r.errors.client)).toBe('illegal_parameter');
  });

  it('a client running no channel (keyExchange none) meets a server that runs one: both fail closed', () => {
    const { client, server } = makePair({ client: { keyExchange: 'none' }, server: { keyExchange: 'ecdhe' } });
    pump(client, server);
    const r = pump(client, server, { start: false, initial: [{ from: 'client', frame: client.seal({ type: 'msg', text: 'plain' }) }] });
    expect(channelCodeOf(r.errors.server)).toBe('unexpected_message');
    expect(r.delivered.server).toEqual([]);
  });

  it('a server running no channel refuses a ch_hello', () => {
    const { client, server } = makePair({ client: { keyExchange: 'ecdhe' }, server: { keyExchange: 'none' } });
    const r = pump(client, server);
    expect(channelCodeOf(r.errors.server)).toBe('unexpected_message');
    expect(r.errors.client?.details.peerCode).toBe('unexpected_message');
  });
});

describe('certificates', () => {
  it('certificate_rejected when the injected verifier says no (pin mismatch), in rsa and ecdhe-signed', () => {
    for (const kx of ['rsa', 'ecdhe-signed'] as const) {
      const { client, server } = makePair({ both: { keyExchange: kx }, verifyCertificate: pinVerifier('sha256/' + 'A'.repeat(43) + '=') });
      const r = pump(client, server);
      const err = r.errors.client!;
      expect(channelCodeOf(err)).toBe('certificate_rejected');
      expect(err.details.verifierCode).toBe('pin_mismatch');
      expect(r.errors.server?.details.peerCode).toBe('certificate_rejected');
    }
  });

  it("the negotiated SPKI pin is the server key's, and a verifier pinning it accepts", () => {
    const first = makePair({ both: { keyExchange: 'ecdhe-signed' } });
    pump(first.client, first.server);
    const pin = first.client.negotiated!.serverCertificateSpkiPin!;
    expect(pin).toMatch(/^sha256\/[A-Za-z0-9+/]{43}=$/);
    const second = makePair({ both: { keyExchange: 'rsa' }, verifyCertificate: pinVerifier(pin) });
    expect(pump(second.client, second.server).errors).toEqual({});
  });

  it('a verifier that throws counts as a rejection', () => {
    const { client, server } = makePair({ both: { keyExchange: 'rsa' }, verifyCertificate: () => { throw new Error('boom'); } });
    expect(channelCodeOf(pump(client, server).errors.client)).toBe('certificate_rejected');
  });

  it('ecdhe-signed with EC (ECDSA) and Ed25519 server keys made by the openssl CLI', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'secchat-channel-'));
    try {
      for (const [name, args] of [['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']], ['ed25519', ['-newkey', 'ed25519']]] as const) {
        const keyFile = path.join(dir, `${name}.key`);
        const certFile = path.join(dir, `${name}.crt`);
        execFileSync('openssl', ['req', '-x509', ...args, '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost', '-days', '1'], { stdio: 'ignore' });
        const serverCert = { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
        const { client, server } = makePair({ both: { keyExchange: 'ecdhe-signed' }, verifyCertificate: acceptAnyCertificate, serverCert });
        const r = pump(client, server);
        expect(r.errors).toEqual({});
        expect(r.wire[1].frame.signatureScheme).toBe(name === 'ec' ? 'ecdsa_sha256' : 'ed25519');
        expect(() => new ChannelServer({ profileChannel: channelSettings({ keyExchange: 'rsa' }), serverCert })).toThrow(UsageError);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rsa key transport', () => {
  it('an altered ch_key is caught by the Finished MAC (the server goes on with a random secret)', () => {
    const { client, server } = makePair({ both: { keyExchange: 'rsa' } });
    const r = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_key' ? { ...e.frame, wrappedSecret: Buffer.alloc(256, 1).toString('base64') } : e.frame) });
    expect(channelCodeOf(r.errors.server)).toBe('transcript_mismatch');
  });

  it('without the Finished MAC, an altered ch_key shows up as bad_record_mac on the first record', () => {
    const { client, server } = makePair({ both: { keyExchange: 'rsa', transcriptMac: false } });
    const hs = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_key' ? { ...e.frame, wrappedSecret: Buffer.alloc(256, 1).toString('base64') } : e.frame) });
    expect(hs.errors).toEqual({});
    const r = pump(client, server, { start: false, initial: [{ from: 'client', frame: client.seal({ type: 'msg' }) }] });
    expect(channelCodeOf(r.errors.server)).toBe('bad_record_mac');
  });
});

describe('state machine discipline', () => {
  it('unexpected_message for a frame the state does not allow, then closed', () => {
    const { server } = makePair({ both: { keyExchange: 'ecdhe' } });
    expectChannelError(() => server.receive({ type: 'ch_finished', verify: Buffer.alloc(32).toString('base64') }), 'unexpected_message');
    expect(server.state).toBe('closed');
    expect(channelCodeOf(server.error)).toBe('unexpected_message');
    expectChannelError(() => server.receive({ type: 'ch_hello' }), 'closed');
  });

  it('a sealed frame before the handshake ends is unexpected; sealing before it is not_established and harmless', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe' } });
    expectChannelError(() => client.seal({ type: 'msg' }), 'not_established');
    expect(client.state).toBe('idle');
    expect(pump(client, server).errors).toEqual({});
    const { server: fresh } = makePair({ both: { keyExchange: 'ecdhe' } });
    expectChannelError(() => fresh.open(client.seal({ type: 'msg' })), 'unexpected_message');
  });

  it('a plain chat frame on an established channel is rejected (it could have been injected)', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe' } });
    pump(client, server);
    expectChannelError(() => server.open({ type: 'msg', text: 'injected' }), 'unexpected_message');
  });

  it('a second ch_hello after the handshake is unexpected', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe' } });
    const r = pump(client, server);
    expectChannelError(() => server.receive(r.wire[0].frame), 'unexpected_message');
  });

  it.each([
    ['not an object', 'x'],
    ['short random', { type: 'ch_hello', version: 1, keyExchange: 'ecdhe', ciphers: ['aes-256-gcm'], transcriptMac: true, replayProtection: 'sequence', random: Buffer.alloc(31).toString('base64'), share: Buffer.alloc(32, 9).toString('base64') }],
    ['non-canonical base64', { type: 'ch_hello', version: 1, keyExchange: 'ecdhe', ciphers: ['aes-256-gcm'], transcriptMac: true, replayProtection: 'sequence', random: Buffer.alloc(32).toString('base64').replace(/=$/, 'B').replace(/AB$/, 'B='), share: Buffer.alloc(32, 9).toString('base64') }],
    ['ciphers not a list', { type: 'ch_hello', version: 1, keyExchange: 'ecdhe', ciphers: 'aes-256-gcm', transcriptMac: true, replayProtection: 'sequence', random: Buffer.alloc(32).toString('base64'), share: Buffer.alloc(32, 9).toString('base64') }],
    ['missing share', { type: 'ch_hello', version: 1, keyExchange: 'ecdhe', ciphers: ['aes-256-gcm'], transcriptMac: true, replayProtection: 'sequence', random: Buffer.alloc(32).toString('base64') }],
  ])('decode_error: %s', (_name, frame) => {
    const { server } = makePair({ both: { keyExchange: 'ecdhe' } });
    expectChannelError(() => server.receive(frame), 'decode_error');
  });

  it('illegal_parameter for a low-order X25519 share', () => {
    const { client, server } = makePair({ both: { keyExchange: 'ecdhe' } });
    const r = pump(client, server, { tamper: (e) => (e.frame.type === 'ch_hello' ? { ...e.frame, share: Buffer.alloc(32).toString('base64') } : e.frame) });
    expect(channelCodeOf(r.errors.server)).toBe('illegal_parameter');
  });

  it('handle() never throws: it turns failures into a ch_error to send', () => {
    const { server } = makePair({ both: { keyExchange: 'ecdhe' } });
    const a = server.handle({ type: 'sealed', iv: 'x' });
    expect(a.deliver).toEqual([]);
    expect(a.send).toEqual([{ type: 'ch_error', code: 'unexpected_message', message: CHANNEL_ERROR_CODES.unexpected_message }]);
    const b = server.handle({ type: 'ch_hello' });
    expect(channelCodeOf(b.error)).toBe('closed');
    expect(b.send).toEqual([]);
  });

  it('channelErrorFrame: fixed sentences, nothing for peer_error or local misuse, internal_error for bugs', () => {
    const { server } = makePair({ both: { keyExchange: 'ecdhe' } });
    const err = expectChannelError(() => server.receive({ type: 'ch_error', code: 'stale', message: 'x' }), 'peer_error');
    expect(channelErrorFrame(err)).toBeNull();
    expect(channelErrorFrame(new Error('bug'))).toEqual({ type: 'ch_error', code: 'internal_error', message: 'the peer failed unexpectedly' });
  });

  it('start() twice is a usage error', () => {
    const { client } = makePair({ both: { keyExchange: 'ecdhe' } });
    client.start();
    expect(() => client.start()).toThrow(UsageError);
  });
});

describe('configuration is checked at construction', () => {
  const pki = testPki();
  it.each([
    ['client rsa without verifyCertificate', () => new ChannelClient({ profileChannel: channelSettings({ keyExchange: 'rsa' }) }), /verifyCertificate/],
    ['client ecdhe-signed without verifyCertificate', () => new ChannelClient({ profileChannel: channelSettings({ keyExchange: 'ecdhe-signed' }) }), /verifyCertificate/],
    ['server rsa without serverCert', () => new ChannelServer({ profileChannel: channelSettings({ keyExchange: 'rsa' }) }), /serverCert/],
    ['server with a key that is not the certificate key', () => new ChannelServer({ profileChannel: channelSettings({ keyExchange: 'ecdhe-signed' }), serverCert: { certPem: pki.server.certPem, keyPem: pki.attacker.keyPem } }), /not the key/],
    ['server with a garbage certificate', () => new ChannelServer({ profileChannel: channelSettings({ keyExchange: 'rsa' }), serverCert: { certPem: 'nope', keyPem: pki.server.keyPem } }), /certPem/],
    ['empty cipher list', () => new ChannelClient({ profileChannel: { ...channelSettings({ keyExchange: 'ecdhe' }), ciphers: [] } }), /channel.ciphers/],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(UsageError);
    expect(make).toThrow(message);
  });

  it('ecdhe needs neither a verifier nor a certificate', () => {
    expect(() => new ChannelClient({ profileChannel: channelSettings({ keyExchange: 'ecdhe' }) })).not.toThrow();
    expect(() => new ChannelServer({ profileChannel: channelSettings({ keyExchange: 'ecdhe' }) })).not.toThrow();
  });
});

describe('reproducibility', () => {
  // ecdhe only: RSA-PSS salts (ecdhe-signed) and OAEP seeds (rsa) come from OpenSSL's own RNG.
  it('with injected randomness, two runs produce the same ecdhe handshake bytes', () => {
    const run = () => {
      const { client, server } = makePair({ both: { keyExchange: 'ecdhe' }, seed: 'fixed' });
      return pump(client, server).wire;
    };
    expect(run()).toEqual(run());
  });
});
