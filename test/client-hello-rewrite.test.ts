/**
 * rewriteClientHelloSuites (core/tls/client-hello-rewrite.ts): byte by byte against the builder,
 * on real ClientHellos from node's TLS client (one record, split records, pipelined bytes), as a
 * property, and against programs nobody here wrote — Wireshark's dissector (tshark) reading a pcap
 * of the rewritten hello, and `openssl s_server -msg` answering it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError } from '../core/errors.ts';
import { PcapWriter } from '../core/pcap.ts';
import { buildClientHello, parseClientHello, type ClientHelloOptions } from '../core/tls/client-hello.ts';
import { rewriteClientHelloSuites } from '../core/tls/client-hello-rewrite.ts';
import { encodeHandshakeMessage } from '../core/tls/handshake-reassembly.ts';
import { peekClientHello } from '../core/tls/peek-client-hello.ts';
import { encodeRecord, readAllRecords } from '../core/tls/record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE } from '../core/tls/registry.ts';
import { parseServerHello } from '../core/tls/server-hello.ts';
import { captureClientHello } from './helpers/capture-client-hello.ts';
import { rsaTestCert } from './helpers/test-cert.ts';
import { hasTshark, tshark } from './helpers/tshark.ts';

const random = Buffer.alloc(32, 0xab);
const base: ClientHelloOptions = { legacyVersion: 0x0303, random, sessionId: Buffer.alloc(32, 7), cipherSuites: [], serverName: 'localhost', supportedVersions: [0x0304, 0x0303] };

/** The real hello node's client sends when it offers TLS 1.2 ECDHE and static-RSA suites. */
let nodeHello: Buffer;
beforeAll(async () => {
  nodeHello = await captureClientHello({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-SHA', servername: 'localhost' });
});

describe('rewriteClientHelloSuites', () => {
  it('produces exactly the hello the builder makes with the kept suites (bytes, lengths, record header)', () => {
    const before = buildClientHello({ ...base, cipherSuites: [0xc02f, 0xc030, 0x009c, 0x002f, 0x00ff] });
    const after = rewriteClientHelloSuites(before, [0x009c, 0x002f]);
    expect(after.toString('hex')).toBe(buildClientHello({ ...base, cipherSuites: [0x009c, 0x002f] }).toString('hex'));
    // 3 suites (6 bytes) fewer: record length and handshake length both shrink by 6.
    expect(after.readUInt16BE(3)).toBe(before.readUInt16BE(3) - 6);
    expect(after.readUIntBE(6, 3)).toBe(before.readUIntBE(6, 3) - 6);
    expect(after.length).toBe(before.length - 6);
  });

  it('can also grow the list, and keeps the given order', () => {
    const before = buildClientHello({ ...base, cipherSuites: [0x1301] });
    const after = rewriteClientHelloSuites(before, [0x002f, 0x1302, 0x1301]);
    expect(after.toString('hex')).toBe(buildClientHello({ ...base, cipherSuites: [0x002f, 0x1302, 0x1301] }).toString('hex'));
  });

  it("keeps every other field of a real node ClientHello byte for byte (random, session id, every extension)", () => {
    const orig = peekClientHello(nodeHello).hello!;
    expect(orig.cipherSuites.map((s) => s.id)).toContain(0x009c);
    const after = rewriteClientHelloSuites(nodeHello, [0x009c]);
    const peek = peekClientHello(after);
    expect(peek.complete && peek.isTls).toBe(true);
    const h = peek.hello!;
    expect(h.cipherSuites.map((s) => s.id)).toEqual([0x009c]);
    expect(h.random.equals(orig.random)).toBe(true);
    expect(h.sessionId.equals(orig.sessionId)).toBe(true);
    expect(h.extensions.map((e) => `${e.type}:${e.data.toString('hex')}`)).toEqual(orig.extensions.map((e) => `${e.type}:${e.data.toString('hex')}`));
    expect(h.legacyVersion).toBe(orig.legacyVersion);
    // the record keeps the client's legacy_record_version
    expect(after.readUInt16BE(1)).toBe(nodeHello.readUInt16BE(1));
  });

  it('can also replace supported_versions: the same bytes as the builder with the new list, the extension in place', () => {
    const before = buildClientHello({ ...base, cipherSuites: [0x1301, 0xc02f, 0x002f] });
    const after = rewriteClientHelloSuites(before, [0x002f], { supportedVersions: [0x0303] });
    expect(after.toString('hex')).toBe(buildClientHello({ ...base, cipherSuites: [0x002f], supportedVersions: [0x0303] }).toString('hex'));
    // a hello without the extension is left as it was there
    const old = buildClientHello({ ...base, supportedVersions: undefined, cipherSuites: [0xc02f, 0x002f] });
    expect(rewriteClientHelloSuites(old, [0x002f], { supportedVersions: [0x0303] }).toString('hex')).toBe(buildClientHello({ ...base, supportedVersions: undefined, cipherSuites: [0x002f] }).toString('hex'));
    // on a real node hello: only TLS 1.2 left, every other extension byte for byte
    const orig = peekClientHello(nodeHello).hello!;
    const h = peekClientHello(rewriteClientHelloSuites(nodeHello, [0x009c], { supportedVersions: [0x0303] })).hello!;
    expect(h.supportedVersions).toEqual([0x0303]);
    expect(h.maxVersion).toBe(0x0303);
    expect(h.extensions.filter((e) => e.type !== 43).map((e) => e.data.toString('hex'))).toEqual(orig.extensions.filter((e) => e.type !== 43).map((e) => e.data.toString('hex')));
    expect(h.extensions.map((e) => e.type)).toEqual(orig.extensions.map((e) => e.type));
    expect(() => rewriteClientHelloSuites(nodeHello, [0x009c], { supportedVersions: [] })).toThrow(RangeError);
  });

  it('reads a ClientHello split over several records and writes it as one', () => {
    const one = buildClientHello({ ...base, cipherSuites: [0xc02f, 0x009c] });
    const msg = readAllRecords(one).records[0]!.fragment;
    const split = Buffer.concat([encodeRecord(CONTENT_TYPE.handshake, 0x0301, msg.subarray(0, 3)), encodeRecord(CONTENT_TYPE.handshake, 0x0301, msg.subarray(3, 50)), encodeRecord(CONTENT_TYPE.handshake, 0x0301, msg.subarray(50))]);
    expect(rewriteClientHelloSuites(split, [0x009c]).toString('hex')).toBe(buildClientHello({ ...base, cipherSuites: [0x009c] }).toString('hex'));
  });

  it('appends bytes that follow the hello unchanged', () => {
    const tail = encodeRecord(CONTENT_TYPE.change_cipher_spec, 0x0303, Buffer.from([1]));
    const after = rewriteClientHelloSuites(Buffer.concat([buildClientHello({ ...base, cipherSuites: [0xc02f, 0x009c] }), tail]), [0x009c]);
    expect(after.toString('hex')).toBe(Buffer.concat([buildClientHello({ ...base, cipherSuites: [0x009c] }), tail]).toString('hex'));
  });

  it('refuses an empty or out-of-range keep list (RangeError) before reading the bytes', () => {
    const h = buildClientHello({ ...base, cipherSuites: [0x009c] });
    expect(() => rewriteClientHelloSuites(h, [])).toThrow(RangeError);
    expect(() => rewriteClientHelloSuites(h, [0x10000])).toThrow(/not a uint16/);
    expect(() => rewriteClientHelloSuites(h, [-1])).toThrow(RangeError);
  });

  it('refuses bytes that are not one whole, well-formed ClientHello (ProtocolError)', () => {
    const h = buildClientHello({ ...base, cipherSuites: [0x009c] });
    // every truncation
    for (let n = 0; n < h.length; n++) expect(() => rewriteClientHelloSuites(h.subarray(0, n), [0x002f]), `cut at ${n}`).toThrow(ProtocolError);
    // a ServerHello-typed message
    const body = readAllRecords(h).records[0]!.fragment.subarray(4);
    expect(() => rewriteClientHelloSuites(encodeRecord(CONTENT_TYPE.handshake, 0x0303, encodeHandshakeMessage(HANDSHAKE_TYPE.server_hello, body)), [0x002f])).toThrow(/not client_hello/);
    // an odd-length suite list inside (malformed body)
    const bad = Buffer.from(h);
    bad.writeUInt16BE(bad.readUInt16BE(5 + 4 + 35 + 32) + 1, 5 + 4 + 35 + 32);
    expect(() => rewriteClientHelloSuites(bad, [0x002f])).toThrow(ProtocolError);
    // an alert record first
    expect(() => rewriteClientHelloSuites(encodeRecord(CONTENT_TYPE.alert, 0x0303, Buffer.from([2, 40])), [0x002f])).toThrow(ProtocolError);
  });

  it('property: the parsed result offers exactly `keep` and nothing else changed', () => {
    const orig = parseClientHello(readAllRecords(nodeHello).records[0]!.fragment.subarray(4));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 200 }), (keep) => {
        const out = rewriteClientHelloSuites(nodeHello, keep);
        const { records, trailing } = readAllRecords(out);
        expect(trailing.length).toBe(0);
        const msg = Buffer.concat(records.map((r) => r.fragment));
        expect(msg.readUIntBE(1, 3)).toBe(msg.length - 4);
        const h = parseClientHello(msg.subarray(4));
        expect(h.cipherSuites.map((s) => s.id)).toEqual(keep);
        expect(h.extensions.length).toBe(orig.extensions.length);
        expect(h.random.equals(orig.random)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('interop: the rewritten hello as programs nobody here wrote read it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'secchat-rewrite-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasTshark)('tshark reads a pcap of it and lists exactly the kept suites', () => {
    const keep = [0x009c, 0x0035];
    const w = new PcapWriter();
    w.addConversation({ client: { ip: '10.0.0.1', port: 50123 }, server: { ip: '10.0.0.2', port: 8443 }, events: [{ dir: 'c2s', data: rewriteClientHelloSuites(nodeHello, keep), timeMs: 1_700_000_000_000 }] });
    const file = path.join(dir, 'rewritten.pcap');
    writeFileSync(file, w.toBuffer());
    const out = tshark(['-r', file, '-d', 'tcp.port==8443,tls', '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.ciphersuite', '-e', 'tls.handshake.extensions_server_name']).trim();
    expect(out.split('\n')).toHaveLength(1);
    const [suites, sni] = out.split('\t');
    expect(suites!.split(',').map((s) => Number(s))).toEqual(keep);
    expect(sni).toBe('localhost');
  });

  it('openssl s_server -msg receives exactly the rewritten message and answers with a kept suite', async () => {
    const cert = rsaTestCert();
    const port = await freePort();
    const srv = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert.certPath, '-key', cert.keyPath, '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256', '-msg', '-naccept', '1'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let log = '';
    srv.stdout.on('data', (d: Buffer) => (log += d.toString('latin1')));
    try {
      // -naccept 1: a probe connection would use up the one accept, so wait for its ACCEPT line (bounded).
      for (let i = 0; i < 100 && !log.includes('ACCEPT'); i++) await new Promise((r) => setTimeout(r, 100));
      const rewritten = rewriteClientHelloSuites(nodeHello, [0x009c]);
      const answer = await exchange(port, rewritten);
      // The server parsed the rewritten hello and chose from it: static-RSA AES-128-GCM, not its preferred ECDHE.
      const recs = readAllRecords(answer).records.filter((r) => r.type === CONTENT_TYPE.handshake);
      const first = recs[0]!.fragment;
      expect(first[0]).toBe(HANDSHAKE_TYPE.server_hello);
      expect(parseServerHello(first.subarray(4, 4 + first.readUIntBE(1, 3))).cipherSuite.id).toBe(0x009c);
      // -msg dumps the ClientHello it read: the same bytes we sent, handshake header included.
      const dumped = msgDump(log, 'ClientHello');
      expect(dumped.toString('hex')).toBe(readAllRecords(rewritten).records[0]!.fragment.toString('hex'));
    } finally {
      srv.kill();
    }
  }, 30_000);
});

/** The hex bytes `openssl -msg` printed under its first "<<< … Handshake …, <title>" line. */
function msgDump(log: string, title: string): Buffer {
  const lines = log.split('\n');
  const at = lines.findIndex((l) => l.startsWith('<<<') && l.includes(`, ${title}`));
  if (at < 0) throw new Error(`no ${title} in openssl's -msg output:\n${log.slice(0, 2000)}`);
  const hex: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!/^\s+[0-9a-f]{2}( |$)/.test(l)) break;
    hex.push(l.trim().replace(/\s+/g, ''));
  }
  return Buffer.from(hex.join(''), 'hex');
}

/** A free loopback port (bind to 0, read it, release it). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Sends `hello` and collects what the server answers until its ServerHelloDone or 3 s (bounded). */
async function exchange(port: number, hello: Buffer): Promise<Buffer> {
  const sock = net.connect(port, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(hello);
  const end = Date.now() + 3000;
  // ServerHelloDone (type 14, empty body) ends the TLS 1.2 server flight.
  while (Date.now() < end && !Buffer.concat(got).includes(Buffer.from([14, 0, 0, 0]))) await new Promise((r) => setTimeout(r, 20));
  sock.destroy();
  return Buffer.concat(got);
}
