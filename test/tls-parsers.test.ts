import net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ProtocolError } from '../core/errors.ts';
import { ALERT_DESCRIPTION, buildAlertRecord, parseAlert } from '../core/tls/alerts.ts';
import { CIPHER_SUITES } from '../core/tls/cipher-suites.ts';
import { buildClientHello, parseClientHello } from '../core/tls/client-hello.ts';
import { HandshakeReassembler, encodeHandshakeMessage } from '../core/tls/handshake-reassembly.ts';
import { parseClientKeyExchangeRsa, parseServerKeyExchangeEcdhe } from '../core/tls/key-exchange.ts';
import { peekClientHello } from '../core/tls/peek-client-hello.ts';
import { MAX_RECORD_FRAGMENT_BYTES, TlsRecordReader, encodeRecord, readAllRecords, type TlsRecord } from '../core/tls/record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE, TLS_FALLBACK_SCSV } from '../core/tls/registry.ts';
import { parseServerHello } from '../core/tls/server-hello.ts';
import { captureClientHello } from './helpers/capture-client-hello.ts';
import { recordTlsSession } from './helpers/record-tls-session.ts';
import { rsaTestCert } from './helpers/test-cert.ts';

function drain(reader: TlsRecordReader): TlsRecord[] {
  const out: TlsRecord[] = [];
  for (let r = reader.next(); r; r = reader.next()) out.push(r);
  return out;
}

/** A cheap exact fingerprint (vitest's deep Buffer equality is slow in loops of thousands). */
function summary(records: TlsRecord[]): string {
  return records.map((r) => `${r.type}/${r.version}/${r.offset}/${r.fragment.toString('hex')}`).join('|');
}

function readChunked(stream: Buffer, cuts: number[]): TlsRecord[] {
  const reader = new TlsRecordReader();
  const out: TlsRecord[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    reader.push(stream.subarray(from, cut));
    from = cut;
    out.push(...drain(reader));
  }
  expect(reader.bufferedBytes).toBe(0);
  return out;
}

describe('TlsRecordReader (RFC 5246 §6.2.1)', () => {
  let stream: Buffer;
  let whole: TlsRecord[];
  beforeAll(async () => {
    const hello = await captureClientHello({ servername: 'reader.lab.test' });
    stream = Buffer.concat([
      hello,
      encodeRecord(CONTENT_TYPE.change_cipher_spec, 0x0303, Buffer.from([1])),
      encodeRecord(CONTENT_TYPE.application_data, 0x0303, Buffer.alloc(3000, 0xab)),
      encodeRecord(CONTENT_TYPE.application_data, 0x0303, Buffer.alloc(0)),
      buildAlertRecord(ALERT_DESCRIPTION.close_notify, 1),
    ]);
    whole = readChunked(stream, []);
  });

  it('reads a whole stream into its records with their stream offsets', () => {
    expect(whole.map((r) => r.type)).toEqual([22, 20, 23, 23, 21]);
    expect(whole[0]!.offset).toBe(0);
    expect(whole[2]!.fragment).toEqual(Buffer.alloc(3000, 0xab));
    const last = whole[whole.length - 1]!;
    expect(last.offset + 5 + last.fragment.length).toBe(stream.length);
  });

  it('gives the same records when split at every offset', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const got = readChunked(stream, [cut]);
      if (summary(got) !== summary(whole)) expect.fail(`split at ${cut} gave different records`);
    }
  });

  it('gives the same records fed byte by byte', () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(summary(readChunked(stream, cuts))).toBe(summary(whole));
  });

  it('gives the same records for any chunking (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
        expect(summary(readChunked(stream, cuts.sort((a, b) => a - b)))).toBe(summary(whole));
      }),
      { numRuns: 200 },
    );
  });

  it('returns null (need more bytes) on a partial record and keeps it buffered', () => {
    const reader = new TlsRecordReader();
    reader.push(stream.subarray(0, 4));
    expect(reader.next()).toBeNull();
    reader.push(stream.subarray(4, 10));
    expect(reader.next()).toBeNull();
    expect(reader.bufferedBytes).toBe(10);
  });

  it('rejects a length above 2^14 + 2048 from the header alone, before buffering the body', () => {
    const reader = new TlsRecordReader();
    const head = Buffer.from([23, 3, 3, 0, 0]);
    head.writeUInt16BE(MAX_RECORD_FRAGMENT_BYTES + 1, 3);
    reader.push(head);
    let err: unknown;
    try {
      reader.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(ERROR_CODES.PROTOCOL);
    expect((err as ProtocolError).details).toMatchObject({ field: 'record.length', value: MAX_RECORD_FRAGMENT_BYTES + 1 });
    expect(() => reader.next()).toThrow(ProtocolError); // stays failed
  });

  it('accepts exactly 2^14 + 2048', () => {
    const rec = encodeRecord(CONTENT_TYPE.application_data, 0x0303, Buffer.alloc(MAX_RECORD_FRAGMENT_BYTES));
    expect(readAllRecords(rec).records[0]!.fragment.length).toBe(MAX_RECORD_FRAGMENT_BYTES);
  });

  it('rejects bytes that are not TLS (HTTP, SSLv2-style major version)', () => {
    expect(() => readAllRecords(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(/content type 71/);
    expect(() => readAllRecords(Buffer.from([22, 2, 0, 0, 1, 0]))).toThrow(/version 0x0200/);
  });

  it('reports a truncated trailing record as leftover bytes', () => {
    const { records, trailing } = readAllRecords(stream.subarray(0, stream.length - 1));
    expect(records.length).toBe(whole.length - 1);
    expect(trailing.length).toBe(6);
  });
});

describe('HandshakeReassembler (RFC 5246 §7.4)', () => {
  const a = encodeHandshakeMessage(HANDSHAKE_TYPE.server_hello_done, Buffer.alloc(0));
  const b = encodeHandshakeMessage(HANDSHAKE_TYPE.certificate, Buffer.alloc(5000, 1));
  const c = encodeHandshakeMessage(HANDSHAKE_TYPE.finished, Buffer.alloc(12, 2));
  const all = Buffer.concat([a, b, c]);

  it('splits messages sharing a record and joins one spanning records, for every split', () => {
    for (let cut = 0; cut <= all.length; cut++) {
      const r = new HandshakeReassembler();
      const got = [];
      r.push(all.subarray(0, cut));
      for (let m = r.next(); m; m = r.next()) got.push(m);
      r.push(all.subarray(cut));
      for (let m = r.next(); m; m = r.next()) got.push(m);
      const ok = got.map((m) => m.msgType).join() === '14,11,20' && Buffer.concat(got.map((m) => m.raw)).equals(all) && got[1]!.body.length === 5000;
      if (!ok || r.hasPartialMessage) expect.fail(`split at ${cut} reassembled wrongly`);
    }
  });

  it('rejects a message longer than its cap from the header', () => {
    const r = new HandshakeReassembler(1024);
    r.push(Buffer.from([11, 0, 0x04, 0x01]));
    expect(() => r.next()).toThrow(ProtocolError);
  });
});

describe('ClientHello from a real node client (RFC 8446 §4.1.2)', () => {
  it('decodes SNI, supported_versions, groups, key_share, EMS, ticket', async () => {
    const bytes = await captureClientHello({ servername: 'chat.lab.test', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    const peek = peekClientHello(bytes);
    expect(peek).toMatchObject({ isTls: true, complete: true });
    const hello = peek.hello!;
    expect(hello.serverName).toBe('chat.lab.test');
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.supportedVersions).toEqual([0x0304, 0x0303]);
    expect(hello.maxVersion).toBe(0x0304);
    expect(hello.supportedGroups!.map((g) => g.name)).toEqual(expect.arrayContaining(['X25519', 'P-256', 'P-384']));
    expect(hello.keyShareGroups!.map((g) => g.name)).toEqual(['X25519']);
    expect(hello.extendedMasterSecret).toBe(true);
    expect(hello.sessionTicket).toEqual(Buffer.alloc(0));
    expect(hello.preSharedKey).toBe(false);
    expect(hello.fallbackScsv).toBe(false);
    expect(hello.random.length).toBe(32);
    expect(hello.compressionMethods).toEqual([0]);
    const names = hello.cipherSuites.map((s) => s.name);
    expect(names).toContain('TLS_AES_256_GCM_SHA384');
    expect(names).toContain('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(names).toContain('TLS_RSA_WITH_AES_128_GCM_SHA256');
  });

  it('sees a TLS 1.2-only client offer no supported_versions beyond 1.2', async () => {
    const hello = peekClientHello(await captureClientHello({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' })).hello!;
    expect(hello.maxVersion).toBe(0x0303);
    expect(hello.cipherSuites.map((s) => s.name)).toEqual(['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV']);
    expect(hello.serverName).toBeUndefined(); // node sends no SNI for an IP address
  });

  it('peekClientHello: provisional on every prefix, final on the whole hello, never throws', async () => {
    const bytes = await captureClientHello();
    expect(peekClientHello(Buffer.alloc(0))).toEqual({ isTls: false, complete: false });
    for (let n = 1; n < bytes.length; n++) expect(peekClientHello(bytes.subarray(0, n))).toEqual({ isTls: true, complete: false });
    expect(peekClientHello(bytes).complete).toBe(true);
  });

  it('peekClientHello: HTTP, an SSH banner, and a handshake that is not a ClientHello are not TLS', () => {
    expect(peekClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).toMatchObject({ isTls: false, complete: true });
    expect(peekClientHello(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'))).toMatchObject({ isTls: false, complete: true });
    const sh = encodeRecord(22, 0x0303, encodeHandshakeMessage(HANDSHAKE_TYPE.server_hello, Buffer.alloc(40)));
    expect(peekClientHello(sh.subarray(0, 8))).toMatchObject({ isTls: false, complete: true });
    const garbled = encodeRecord(22, 0x0301, encodeHandshakeMessage(HANDSHAKE_TYPE.client_hello, Buffer.alloc(10)));
    expect(peekClientHello(garbled)).toMatchObject({ isTls: false, complete: true, error: expect.stringMatching(/truncated/) });
  });

  it('peekClientHello: a ClientHello split over two records', async () => {
    const bytes = await captureClientHello({ servername: 'split.lab.test' });
    const fragment = readAllRecords(bytes).records[0]!.fragment;
    const two = Buffer.concat([encodeRecord(22, 0x0301, fragment.subarray(0, 100)), encodeRecord(22, 0x0301, fragment.subarray(100))]);
    expect(peekClientHello(two.subarray(0, 110)).complete).toBe(false);
    expect(peekClientHello(two).hello!.serverName).toBe('split.lab.test');
  });
});

describe('ClientHello builder and alerts', () => {
  it('round-trips through parseClientHello, with and without TLS_FALLBACK_SCSV', () => {
    const random = Buffer.alloc(32, 9);
    const rec = buildClientHello({ legacyVersion: 0x0302, random, cipherSuites: [0x002f, TLS_FALLBACK_SCSV], serverName: 'x.test' });
    const hello = peekClientHello(rec).hello!;
    expect(hello).toMatchObject({ legacyVersion: 0x0302, serverName: 'x.test', fallbackScsv: true, extendedMasterSecret: true });
    expect(hello.random).toEqual(random);
    expect(hello.cipherSuites).toEqual([
      { id: 0x002f, name: 'TLS_RSA_WITH_AES_128_CBC_SHA' },
      { id: 0x5600, name: 'TLS_FALLBACK_SCSV' },
    ]);
    const plain = peekClientHello(buildClientHello({ legacyVersion: 0x0303, random, cipherSuites: [0x009c] })).hello!;
    expect(plain.fallbackScsv).toBe(false);
  });

  it('builds and parses an alert record', () => {
    const rec = buildAlertRecord(ALERT_DESCRIPTION.inappropriate_fallback);
    expect(rec).toEqual(Buffer.from([21, 3, 3, 0, 2, 2, 86]));
    expect(parseAlert(readAllRecords(rec).records[0]!.fragment)).toEqual({ level: 2, description: 86, name: 'inappropriate_fallback' });
  });

  it('parsers reject truncation and trailing bytes', () => {
    const body = readAllRecords(buildClientHello({ legacyVersion: 0x0303, random: Buffer.alloc(32), cipherSuites: [0x009c] })).records[0]!.fragment.subarray(4);
    expect(() => parseClientHello(body.subarray(0, body.length - 1))).toThrow(ProtocolError);
    expect(() => parseClientHello(Buffer.concat([body, Buffer.from([0])]))).toThrow(/trailing/);
    expect(() => parseClientKeyExchangeRsa(Buffer.from([0, 3, 1, 2]))).toThrow(ProtocolError);
    expect(parseClientKeyExchangeRsa(Buffer.from([0, 2, 1, 2])).encryptedPreMasterSecret).toEqual(Buffer.from([1, 2]));
  });
});

describe('cipher suite table', () => {
  it('names only suites OpenSSL knows, under their OpenSSL names', () => {
    const openssl = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
    for (const s of CIPHER_SUITES.values()) expect(openssl.has(s.openssl.toUpperCase()), s.openssl).toBe(true);
  });

  it('covers the TLS 1.2 RSA, ECDHE-RSA and TLS 1.3 suites node negotiates', () => {
    const byName = new Map([...CIPHER_SUITES.values()].map((s) => [s.openssl, s]));
    for (const n of ['AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA256', 'AES256-SHA256', 'AES128-SHA', 'AES256-SHA']) {
      expect(byName.get(n)?.keyExchange).toBe('RSA');
    }
    expect(byName.get('AES256-GCM-SHA384')?.prfHash).toBe('SHA384');
    expect(byName.get('AES128-SHA')).toMatchObject({ cipher: 'AES-128-CBC', mac: 'SHA1', prfHash: 'SHA256' });
    expect(byName.get('ECDHE-RSA-AES256-GCM-SHA384')).toMatchObject({ keyExchange: 'ECDHE', mac: null, id: 0xc030 });
    expect(byName.get('TLS_CHACHA20_POLY1305_SHA256')).toMatchObject({ keyExchange: 'TLS13', cipher: 'CHACHA20-POLY1305' });
  });
});

describe('ServerHello and ServerKeyExchange from real sessions', () => {
  const key = () => rsaTestCert();
  it('TLS 1.3: supported_versions selects 1.3, key_share group X25519', async () => {
    key();
    const s = await recordTlsSession({ maxVersion: 'TLSv1.3', minVersion: 'TLSv1.3' });
    const msg = readAllRecords(s.serverToClient).records[0]!.fragment;
    expect(msg[0]).toBe(HANDSHAKE_TYPE.server_hello);
    const sh = parseServerHello(msg.subarray(4, 4 + msg.readUIntBE(1, 3)));
    expect(sh.legacyVersion).toBe(0x0303);
    expect(sh.selectedVersion).toBe(0x0304);
    expect(sh.keyShareGroup).toEqual({ id: 0x001d, name: 'X25519' });
    expect(sh.suite?.keyExchange).toBe('TLS13');
    expect(sh.helloRetryRequest).toBe(false);
  });

  it('TLS 1.2 ECDHE with P-256: ServerKeyExchange names the curve', async () => {
    const s = await recordTlsSession({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'P-256' });
    const r = new HandshakeReassembler();
    for (const rec of readAllRecords(s.serverToClient).records) {
      if (rec.type === CONTENT_TYPE.change_cipher_spec) break; // the Finished after it is encrypted
      if (rec.type === CONTENT_TYPE.handshake) r.push(rec.fragment);
    }
    const msgs = [];
    for (let m = r.next(); m; m = r.next()) msgs.push(m);
    expect(msgs.slice(0, 4).map((m) => m.msgType)).toEqual([2, 11, 12, 14]);
    const sh = parseServerHello(msgs[0]!.body);
    expect(sh).toMatchObject({ selectedVersion: 0x0303, extendedMasterSecret: true, cipherSuite: { id: 0xc02f } });
    const ske = parseServerKeyExchangeEcdhe(msgs[2]!.body);
    expect(ske.group).toEqual({ id: 0x0017, name: 'P-256' });
    expect(ske.publicKey.length).toBe(65); // uncompressed point
  });
});

describe('TLS_FALLBACK_SCSV against a real node:tls server (RFC 7507)', () => {
  /** Send a hand-built ClientHello, collect the server's records until an alert or ServerHelloDone. */
  async function probe(legacyVersion: number, scsv: boolean, serverCiphers?: string): Promise<TlsRecord[]> {
    const { keyPem, certPem } = rsaTestCert();
    const server = tls.createServer({ key: keyPem, cert: certPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ...(serverCiphers ? { ciphers: serverCiphers } : {}) });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      const reader = new TlsRecordReader();
      const records: TlsRecord[] = [];
      await new Promise<void>((resolve, reject) => {
        sock.on('data', (d) => {
          reader.push(d);
          for (let r = reader.next(); r; r = reader.next()) {
            records.push(r);
            if (r.type === CONTENT_TYPE.alert || (r.type === CONTENT_TYPE.handshake && r.fragment.includes(HANDSHAKE_TYPE.server_hello_done))) {
              sock.destroy();
              resolve();
            }
          }
        });
        sock.on('close', () => resolve());
        sock.on('error', reject);
        sock.write(
          buildClientHello({
            legacyVersion,
            random: Buffer.alloc(32, 0x42),
            cipherSuites: [0xc02f, 0xc013, 0x009c, 0x002f, ...(scsv ? [TLS_FALLBACK_SCSV] : [])],
          }),
        );
      });
      return records;
    } finally {
      server.close();
    }
  }

  it('a TLS 1.1 ClientHello with the SCSV gets alert inappropriate_fallback (86)', async () => {
    const records = await probe(0x0302, true);
    expect(records.length).toBe(1);
    expect(records[0]!.type).toBe(CONTENT_TYPE.alert);
    expect(parseAlert(records[0]!.fragment)).toEqual({ level: 2, description: 86, name: 'inappropriate_fallback' });
  });

  it('a TLS 1.2 ClientHello with the SCSV to a 1.3 server gets inappropriate_fallback too', async () => {
    const records = await probe(0x0303, true);
    expect(parseAlert(records[0]!.fragment).description).toBe(ALERT_DESCRIPTION.inappropriate_fallback);
  });

  it('without the SCSV the server answers ServerHello (TLS 1.1 needs @SECLEVEL=0 on OpenSSL 3)', async () => {
    for (const [version, ciphers] of [
      [0x0303, undefined],
      [0x0302, 'DEFAULT:@SECLEVEL=0'],
    ] as const) {
      const records = await probe(version, false, ciphers);
      expect(records[0]!.type).toBe(CONTENT_TYPE.handshake);
      const sh = parseServerHello(records[0]!.fragment.subarray(4, 4 + records[0]!.fragment.readUIntBE(1, 3)));
      expect(sh.selectedVersion).toBe(version);
    }
  });

  it('OpenSSL 3 at the default security level refuses TLS 1.1 without the SCSV with internal_error', async () => {
    const records = await probe(0x0302, false);
    expect(parseAlert(records[0]!.fragment).name).toBe('internal_error');
  });
});
