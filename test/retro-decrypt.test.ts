import { constants, generateKeyPairSync, publicEncrypt, randomBytes, createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptRecordedTls12, rsaPkcs1v15Decrypt } from '../attacks/retro/tls12-decrypt.ts';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';
import { readAllRecords } from '../core/tls/record-layer.ts';
import { CONTENT_TYPE } from '../core/tls/registry.ts';
import { parseServerHello, type ServerHello } from '../core/tls/server-hello.ts';
import { recordTlsSession, type RecordSessionOptions, type RecordedSession } from './helpers/record-tls-session.ts';
import { rsaTestCert } from './helpers/test-cert.ts';

/** OpenSSL 3's SSL_OP_NO_EXTENDED_MASTER_SECRET (SSL_OP_BIT(0)); node does not export it. */
const SSL_OP_NO_EXTENDED_MASTER_SECRET = 1;

/** The ServerHello as recorded, parsed independently of the decrypter. */
function recordedServerHello(s: RecordedSession): ServerHello {
  const first = readAllRecords(s.serverToClient).records[0]!;
  expect(first.type).toBe(CONTENT_TYPE.handshake);
  return parseServerHello(first.fragment.subarray(4, 4 + first.fragment.readUIntBE(1, 3)));
}

function decrypt(s: RecordedSession, keyPem = rsaTestCert().keyPem) {
  return decryptRecordedTls12({ clientToServer: s.clientToServer, serverToClient: s.serverToClient, serverPrivateKeyPem: keyPem });
}

beforeAll(() => {
  rsaTestCert();
});

describe('retro-decrypt: TLS 1.2 RSA key transport, recorded on the wire, opened with the stolen key', () => {
  const suites = [
    { ciphers: 'AES128-GCM-SHA256', iana: 'TLS_RSA_WITH_AES_128_GCM_SHA256' },
    { ciphers: 'AES256-GCM-SHA384', iana: 'TLS_RSA_WITH_AES_256_GCM_SHA384' },
    { ciphers: 'AES128-SHA256', iana: 'TLS_RSA_WITH_AES_128_CBC_SHA256' },
    { ciphers: 'AES128-SHA', iana: 'TLS_RSA_WITH_AES_128_CBC_SHA' },
  ];
  for (const { ciphers, iana } of suites) {
    for (const ems of [true, false]) {
      it(`${ciphers}, ${ems ? 'with' : 'without'} extended master secret`, async () => {
        const s = await recordTlsSession({ ciphers, serverSecureOptions: ems ? undefined : SSL_OP_NO_EXTENDED_MASTER_SECRET });
        expect(s.protocol).toBe('TLSv1.2');
        expect(s.cipher.name).toBe(ciphers);
        expect(s.reused).toBe(false);
        expect(recordedServerHello(s).extendedMasterSecret).toBe(ems);

        const r = decrypt(s);
        expect(r.outcome, r.reason).toBe('decrypted');
        expect(r.clientPlaintext.toString()).toBe(s.clientSecret);
        expect(r.serverPlaintext.toString()).toBe(s.serverReply);
        expect(r).toMatchObject({ keyExchange: 'RSA', version: 'TLSv1.2', suite: iana, extendedMasterSecret: ems });
        expect(r.finishedVerified).toEqual({ client: true, server: true });
        expect(r.notes.some((n) => n.startsWith(ems ? 'master secret: extended' : 'master secret: classic'))).toBe(true);
        expect(r.keyLogLine).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/);
      });
    }
  }

  it('CBC with MAC-then-encrypt (server refuses encrypt_then_mac)', async () => {
    const s = await recordTlsSession({ ciphers: 'AES256-SHA256', serverSecureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC });
    expect(recordedServerHello(s).encryptThenMac).toBe(false);
    const r = decrypt(s);
    expect(r.outcome, r.reason).toBe('decrypted');
    expect(r.clientPlaintext.toString()).toBe(s.clientSecret);
  });

  it('CBC with encrypt-then-MAC (RFC 7366, OpenSSL negotiates it by default)', async () => {
    const s = await recordTlsSession({ ciphers: 'AES256-SHA' });
    expect(recordedServerHello(s).encryptThenMac).toBe(true);
    expect(decrypt(s).clientPlaintext.toString()).toBe(s.clientSecret);
  });

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    it(`${version} (MD5⊕SHA-1 PRF${version === 'TLSv1' ? ', chained CBC IVs' : ''}; needs @SECLEVEL=0 on OpenSSL 3)`, async () => {
      const s = await recordTlsSession({ ciphers: 'AES128-SHA:@SECLEVEL=0', minVersion: version, maxVersion: version, serverSecureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC });
      expect(s.protocol).toBe(version);
      const r = decrypt(s);
      expect(r.outcome, r.reason).toBe('decrypted');
      expect(r.version).toBe(version);
      expect(r.clientPlaintext.toString()).toBe(s.clientSecret);
      expect(r.serverPlaintext.toString()).toBe(s.serverReply);
    });
  }

  it('fails, without throwing, with the wrong key, a cut recording, or garbage', async () => {
    const s = await recordTlsSession({ ciphers: 'AES128-GCM-SHA256' });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(decrypt(s, other)).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/does not match the server certificate/) });

    const helloOnly = readAllRecords(s.clientToServer).records[0]!;
    const cut = decryptRecordedTls12({ clientToServer: s.clientToServer.subarray(0, 5 + helloOnly.fragment.length), serverToClient: s.serverToClient, serverPrivateKeyPem: rsaTestCert().keyPem });
    expect(cut).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/ClientKeyExchange/) });

    const serverHelloOnly = readAllRecords(s.serverToClient).records[0]!;
    // The server stream cut 10 bytes into the record after the ServerHello: no Certificate.
    const cutAt = 5 + serverHelloOnly.fragment.length + 10;
    const shortServer = decryptRecordedTls12({ clientToServer: s.clientToServer, serverToClient: s.serverToClient.subarray(0, cutAt), serverPrivateKeyPem: rsaTestCert().keyPem });
    expect(shortServer).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/no Certificate/) });
    expect(shortServer.notes.some((n) => /incomplete record/.test(n))).toBe(true);

    const garbage = decryptRecordedTls12({ clientToServer: Buffer.from('GET / HTTP/1.1\r\n\r\n'), serverToClient: Buffer.alloc(0), serverPrivateKeyPem: rsaTestCert().keyPem });
    expect(garbage).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/not well-formed TLS/) });

    // Tampering with the last client record: the handshake still opens, the tampered record is noted.
    const tampered = Buffer.from(s.clientToServer);
    tampered[tampered.length - 1]! ^= 1;
    const t = decrypt({ ...s, clientToServer: tampered });
    expect(t.notes.some((n) => /client record .* did not decrypt/.test(n))).toBe(true);
  });

  it('reports a suite it does not know as unsupported (ServerHello patched to RC4-MD5, 0x0004)', async () => {
    const s = await recordTlsSession({ ciphers: 'AES128-GCM-SHA256' });
    const patched = Buffer.from(s.serverToClient);
    const sidLen = patched[5 + 4 + 2 + 32]!;
    const suiteAt = 5 + 4 + 2 + 32 + 1 + sidLen;
    expect(patched.readUInt16BE(suiteAt)).toBe(0x009c);
    patched.writeUInt16BE(0x0004, suiteAt);
    const r = decrypt({ ...s, serverToClient: patched });
    expect(r).toMatchObject({ outcome: 'unsupported', suite: '0x0004' });
  });

  it('throws a PKI error for a key that is not a usable RSA private key', async () => {
    const s = await recordTlsSession({ ciphers: 'AES128-GCM-SHA256' });
    expect(() => decrypt(s, 'not a key')).toThrow(SecchatError);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    try {
      decrypt(s, ec);
      expect.fail('should throw');
    } catch (err) {
      expect((err as SecchatError).code).toBe(ERROR_CODES.PKI);
    }
  });
});

describe('retro-decrypt: forward secrecy and resumption are reported, not decrypted', () => {
  it('ECDHE-RSA-AES128-GCM-SHA256 → ephemeral X25519', async () => {
    const s = await recordTlsSession({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    const r = decrypt(s);
    expect(r).toMatchObject({ outcome: 'ephemeral', keyExchange: 'ECDHE', group: 'X25519', version: 'TLSv1.2', reason: 'ephemeral X25519: the server key only signed the handshake' });
    expect(r.clientPlaintext.length).toBe(0);
  });

  it('ECDHE with the server limited to P-256 → ephemeral P-256', async () => {
    const r = decrypt(await recordTlsSession({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', ecdhCurve: 'P-256' }));
    expect(r).toMatchObject({ outcome: 'ephemeral', group: 'P-256' });
  });

  it('DHE-RSA → ephemeral DH-2048', async () => {
    const r = decrypt(await recordTlsSession({ ciphers: 'DHE-RSA-AES128-GCM-SHA256', dhparam: 'auto' }));
    expect(r).toMatchObject({ outcome: 'ephemeral', keyExchange: 'DHE', group: 'DH-2048' });
  });

  it('TLS 1.3 → ephemeral X25519 from the ServerHello key_share', async () => {
    const s = await recordTlsSession({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(s.protocol).toBe('TLSv1.3');
    const r = decrypt(s);
    expect(r).toMatchObject({ outcome: 'ephemeral', keyExchange: 'TLS13', group: 'X25519', version: 'TLSv1.3', suite: 'TLS_AES_256_GCM_SHA384' });
    expect(r.reason).toMatch(/^ephemeral X25519/);
  });

  it('TLS 1.3 with a HelloRetryRequest to P-256 → ephemeral P-256', async () => {
    const r = decrypt(await recordTlsSession({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ecdhCurve: 'P-256' }));
    expect(r).toMatchObject({ outcome: 'ephemeral', group: 'P-256' });
    expect(r.notes).toContain('HelloRetryRequest: the server asked for P-256');
  });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`a ${version} session resumed from a ticket → resumed`, async () => {
      const ticketKeys = randomBytes(48);
      const common: RecordSessionOptions = { ciphers: 'AES128-GCM-SHA256', minVersion: version, maxVersion: version, ticketKeys };
      const first = await recordTlsSession(common);
      expect(decrypt(first).outcome).toBe(version === 'TLSv1.2' ? 'decrypted' : 'ephemeral');
      expect(first.session).toBeDefined();
      const second = await recordTlsSession({ ...common, session: first.session });
      expect(second.reused).toBe(true);
      const r = decrypt(second);
      expect(r.outcome, r.reason).toBe('resumed');
    });
  }
});

describe('RSAES-PKCS1-v1_5 by raw RSA (node refuses PKCS#1 v1.5 in privateDecrypt)', () => {
  it('agrees with node-forge both ways and rejects bad padding', () => {
    const pem = rsaTestCert().keyPem;
    const key = createPrivateKey(pem);
    const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
    const forgePub = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
    for (let i = 0; i < 3; i++) {
      const pms = randomBytes(48);
      const byForge = Buffer.from(forgePub.encrypt(pms.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary');
      expect(rsaPkcs1v15Decrypt(key, byForge)).toEqual(pms);
      const byNode = publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, pms);
      expect(Buffer.from(forgeKey.decrypt(byNode.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary')).toEqual(pms);
      expect(rsaPkcs1v15Decrypt(key, byNode)).toEqual(pms);
    }
    const oaep = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING }, randomBytes(48));
    expect(rsaPkcs1v15Decrypt(key, oaep)).toBeNull();
    expect(rsaPkcs1v15Decrypt(key, Buffer.alloc(10))).toBeNull();
  });
});
