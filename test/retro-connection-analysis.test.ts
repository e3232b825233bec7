/**
 * The pure pieces of retro-decrypt and captures: finding TLS after a STARTTLS greeting, the
 * secure-channel layer (rsa opens, ecdhe* do not) on recordings made by the channel machines, and
 * the capture of a real proxied conversation read back by an independent pcap decoder.
 */
import { describe, expect, it } from 'vitest';
import { captureOf, ipv4Endpoint } from '../attacks/kit/capture.ts';
import { decryptRecordedChannel, jsonLines } from '../attacks/retro/channel-decrypt.ts';
import { analyseConnection, type ConnectionAnalysis } from '../attacks/retro/connection-analysis.ts';
import { tlsStart } from '../core/tls/record-layer.ts';
import { retroVerdict } from '../attacks/retro/recording-verdict.ts';
import { newCanary, runConversation } from '../attacks/scenario.ts';
import { makePair } from './helpers/channel-fixtures.ts';
import { testPki } from './helpers/channel-pki.ts';
import { pump, type WireEntry } from './helpers/channel-pump.ts';
import { profileOf, useTestPki } from './helpers/lab-env.ts';
import { readPcap } from './helpers/read-pcap.ts';
import { analysed, channelResult, tlsResult } from './helpers/retro-results.ts';
import { recordTlsSession } from './helpers/record-tls-session.ts';
import { rsaTestCert } from './helpers/test-cert.ts';

describe('tlsStart: the first TLS record of a recorded stream', () => {
  const hello = Buffer.from('160301002a01000026', 'hex'); // record header + ClientHello type
  it('at 0, after JSON lines, or nowhere', () => {
    expect(tlsStart(Buffer.concat([hello, Buffer.alloc(40)]), 1)).toBe(0);
    const greeting = Buffer.from('{"type":"starttls","id":1}\n');
    expect(tlsStart(Buffer.concat([greeting, hello]), 1)).toBe(greeting.length);
    expect(tlsStart(greeting, 1)).toBe(-1);
    expect(tlsStart(Buffer.concat([greeting, hello]), 2)).toBe(-1); // a ClientHello is not a ServerHello
  });
  it('ignores record-like bytes that do not start a line', () => {
    const inLine = Buffer.concat([Buffer.from('{"x":"'), hello, Buffer.from('"}\n')]);
    expect(tlsStart(inLine, 1)).toBe(-1);
  });
  it('finds it in a real recording with a greeting prepended, and the decrypter agrees', async () => {
    const s = await recordTlsSession({ ciphers: 'AES128-GCM-SHA256' });
    const greet = Buffer.from('{"type":"welcome","starttls":true}\n{"type":"starttls_ok"}\n');
    const req = Buffer.from('{"type":"starttls","id":1}\n');
    const a = analyseConnection({ clientToServer: Buffer.concat([req, s.clientToServer]), serverToClient: Buffer.concat([greet, s.serverToClient]), serverPrivateKeyPem: rsaTestCert().keyPem, canary: s.clientSecret });
    expect(a.tlsStartsAt).toEqual({ c2s: req.length, s2c: greet.length });
    expect(a.tls?.outcome).toBe('decrypted');
    expect(a.canary).toMatchObject({ dir: 'c2s', from: 'tls' });
  });
});

describe('the secure channel layer of retro-decrypt (recordings made by core/channel machines)', () => {
  /** A channel session as JSON Lines per direction: handshake, then a sealed dm carrying the canary. */
  function recordChannel(keyExchange: 'rsa' | 'ecdhe' | 'ecdhe-signed', canary: string): { c2s: Buffer; s2c: Buffer } {
    const { client, server } = makePair({ both: { keyExchange, ciphers: ['aes-256-gcm'] } });
    const hs = pump(client, server);
    const initial: WireEntry[] = [
      { from: 'client', frame: client.seal({ type: 'dm', to: 'bob', text: `${canary} is the secret` }) },
      { from: 'server', frame: server.seal({ type: 'ok', re: 3 }) },
    ];
    const app = pump(client, server, { start: false, initial });
    const wire = [...hs.wire, ...app.wire];
    const lines = (from: 'client' | 'server') => Buffer.from(wire.filter((e) => e.from === from).map((e) => JSON.stringify(e.frame) + '\n').join(''));
    return { c2s: lines('client'), s2c: lines('server') };
  }

  it('rsa: the stolen server key unwraps the secret and the canary comes out of the sealed frames', () => {
    const canary = newCanary();
    const { c2s, s2c } = recordChannel('rsa', canary);
    expect(c2s.includes(canary)).toBe(false); // sealed on the wire
    const a = analyseConnection({ clientToServer: c2s, serverToClient: s2c, serverPrivateKeyPem: testPki().server.keyPem, canary });
    expect(a.tls).toBeNull();
    expect(a.channel).toMatchObject({ outcome: 'decrypted', keyExchange: 'rsa', cipher: 'aes-256-gcm' });
    expect(a.canary).toMatchObject({ dir: 'c2s', from: 'channel' });
    expect(a.canary?.excerpt).toContain(canary);
  });

  it('rsa with another key: failed, not decrypted', () => {
    const { c2s, s2c } = recordChannel('rsa', newCanary());
    const r = decryptRecordedChannel({ clientToServer: c2s, serverToClient: s2c, serverPrivateKeyPem: testPki().attacker.keyPem });
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/nothing_to_unwrap/);
  });

  it.each(['ecdhe', 'ecdhe-signed'] as const)('%s: ephemeral — the server key opens nothing', (kx) => {
    const canary = newCanary();
    const { c2s, s2c } = recordChannel(kx, canary);
    const a = analyseConnection({ clientToServer: c2s, serverToClient: s2c, serverPrivateKeyPem: testPki().server.keyPem, canary });
    expect(a.channel).toMatchObject({ outcome: 'ephemeral', keyExchange: kx });
    expect(a.channel?.reason).toMatch(new RegExp(`^channel key exchange ${kx}: ephemeral X25519`));
    expect(a.canary).toBeNull();
  });

  it('no channel: absent; non-JSON lines are skipped', () => {
    expect(jsonLines(Buffer.from('{"type":"a"}\nnot json\n{"type":"b"}\n{"trunc'))).toEqual([{ type: 'a' }, { type: 'b' }]);
    const r = decryptRecordedChannel({ clientToServer: Buffer.from('{"type":"login"}\n'), serverToClient: Buffer.alloc(0), serverPrivateKeyPem: testPki().server.keyPem });
    expect(r.outcome).toBe('absent');
  });
});

describe('captureOf: a proxied conversation as a pcap', () => {
  const env = useTestPki('secchat-capture-');

  it('ipv4Endpoint parses node\'s address:port spellings', () => {
    expect(ipv4Endpoint('127.0.0.1:5000')).toEqual({ ip: '127.0.0.1', port: 5000 });
    expect(ipv4Endpoint('::ffff:127.0.0.1:443')).toEqual({ ip: '127.0.0.1', port: 443 });
    expect(ipv4Endpoint('::1:5000')).toBeNull();
    expect(ipv4Endpoint('undefined:undefined')).toBeNull();
  });

  it('one TCP conversation per connection, victim port ↔ server port, carrying exactly the client-wire bytes', async () => {
    const profile = profileOf({ name: 'inline-capture' });
    const obs = await runConversation(profile, env.pki, env.tmp, newCanary(), { addon: { name: 'tap' } });
    const engine = obs.proxy!.engine;
    const cap = captureOf([engine]);
    expect(cap.conversations).toBe(obs.proxy!.connections.length);
    expect(cap.skipped).toEqual([]);
    const { packets } = readPcap(cap.pcap);
    for (const rec of obs.proxy!.connections) {
      const victimPort = Number(rec.clientPeer.split(':').pop());
      const c2s = packets.filter((p) => p.srcPort === victimPort && p.dstPort === obs.server.port);
      const s2c = packets.filter((p) => p.srcPort === obs.server.port && p.dstPort === victimPort);
      expect(c2s[0]!.flags).toBe(0x02); // SYN from the victim to the real server
      expect(Buffer.concat(c2s.map((p) => p.payload))).toEqual(engine.bytes({ conn: rec.id, dir: 'c2s', layer: 'client-wire' }));
      expect(Buffer.concat(s2c.map((p) => p.payload))).toEqual(engine.bytes({ conn: rec.id, dir: 's2c', layer: 'client-wire' }));
    }
    // Wall-clock timestamps: within this test's lifetime.
    const first = packets[0]!.timeUs / 1000;
    expect(Math.abs(first - engine.startedAtEpochMs)).toBeLessThan(60_000);
  });
});

describe('retroVerdict: the rules for outcomes no end-to-end profile produces today', () => {
  const tls = tlsResult;
  const channel = channelResult;
  const conn = (a: Partial<ConnectionAnalysis>) => analysed(0, a);

  it('TLS opened but the channel inside was ecdhe-signed: blocked, saying both', () => {
    const v = retroVerdict([conn({ tls: tls('decrypted', 'ok'), channel: channel('ephemeral', 'ecdhe-signed', 'channel key exchange ecdhe-signed: ephemeral X25519, the server key only signed the server share') })], '/k/server.key', 'canary-x');
    expect(v.outcome).toBe('blocked');
    expect(v.reason).toMatch(/^TLS decrypted with the stolen key, but channel key exchange ecdhe-signed: ephemeral X25519/);
    expect(v.summary).toBe('channel ecdhe-signed: forward secret');
  });

  it('a resumed session is an error of the recording, named as such', () => {
    const v = retroVerdict([conn({ tls: tls('resumed', 'resumed by session ticket: the master secret was made in an earlier handshake') })], '/k', 'c');
    expect(v).toMatchObject({ outcome: 'error', summary: 'recording holds a resumed session' });
    expect(v.reason).toMatch(/not a full handshake: resumed by session ticket/);
  });

  it('unsupported or failed decryption is an error, never blocked', () => {
    const v = retroVerdict([conn({ tls: tls('unsupported', 'cipher suite 0x0004 is not in secchat\'s table') })], '/k', 'c');
    expect(v.outcome).toBe('error');
    expect(v.reason).toMatch(/could not analyse the recording: cipher suite 0x0004/);
  });

  it('decrypted without the canary is an error; the canary in the clear succeeds without a key', () => {
    expect(retroVerdict([conn({ tls: tls('decrypted', 'ok') })], '/k', 'c').reason).toMatch(/canary was not in it/);
    const clear = retroVerdict([conn({ canary: { dir: 'c2s', from: 'clear', excerpt: 'the secret is c' } })], '/k', 'c');
    expect(clear).toMatchObject({ outcome: 'succeeded', summary: 'canary read: never encrypted' });
  });

  it('ephemeral TLS wins over a failed sibling connection', () => {
    const v = retroVerdict([conn({ tls: tls('failed', 'the server answered with alert handshake_failure') }), conn({ tls: tls('ephemeral', 'ephemeral X25519: the server key only signed the handshake', { group: 'X25519', keyExchange: 'ECDHE' }) })], '/k/server.key', 'c');
    expect(v).toMatchObject({ outcome: 'blocked', summary: 'ephemeral X25519: forward secret' });
  });
});
