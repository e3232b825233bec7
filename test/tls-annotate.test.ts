/**
 * Annotated bytes (core/tls/byte-cursor.ts FieldLog, core/tls/annotate.ts): every field's offset,
 * length and raw bytes checked against the message byte by byte; the top-level fields tile the
 * message; decoding with a log changes nothing the parser returns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FieldLog, type AnnotatedField } from '../core/tls/byte-cursor.ts';
import { buildClientHello, parseClientHello } from '../core/tls/client-hello.ts';
import { explainHandshakeMessage, explainTlsStream } from '../core/tls/annotate.ts';
import { encodeHandshakeMessage } from '../core/tls/handshake-reassembly.ts';
import { encodeRecord } from '../core/tls/record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE } from '../core/tls/registry.ts';
import { parseServerHello } from '../core/tls/server-hello.ts';
import { captureClientHello } from './helpers/capture-client-hello.ts';

/** A TLS 1.3 ServerHello body built by hand: X25519 share, supported_versions 0x0304. */
function serverHelloBody(): Buffer {
  const share = Buffer.alloc(32, 0xab);
  const ext = (type: number, data: Buffer) => Buffer.concat([Buffer.from([type >> 8, type & 0xff, data.length >> 8, data.length & 0xff]), data]);
  const exts = Buffer.concat([ext(43, Buffer.from([0x03, 0x04])), ext(51, Buffer.concat([Buffer.from([0x00, 0x1d, 0x00, 0x20]), share]))]);
  return Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 0x11), // random
    Buffer.from([0x04, 1, 2, 3, 4]), // session_id
    Buffer.from([0x13, 0x01]), // TLS_AES_128_GCM_SHA256
    Buffer.from([0x00]),
    Buffer.from([exts.length >> 8, exts.length & 0xff]),
    exts,
  ]);
}

/** Each field's raw bytes are exactly the message's bytes at its offset; depth-0 fields tile it. */
function expectConsistent(fields: AnnotatedField[], message: Buffer, from = 0): void {
  for (const f of fields) {
    expect(f.raw.length, f.name).toBe(f.length);
    expect(f.raw.equals(message.subarray(f.offset - from, f.offset - from + f.length)), `${f.name} at ${f.offset}`).toBe(true);
  }
  const top = fields.filter((f) => f.depth === 0);
  let at = from;
  for (const f of top) {
    expect(f.offset, `${f.name} starts where the previous field ended`).toBe(at);
    at += f.length;
  }
  expect(at - from).toBe(message.length);
}

describe('FieldLog: the parsers annotate what they read', () => {
  it('a ClientHello from buildClientHello: fields tile the body, values decoded, parse result unchanged', () => {
    const record = buildClientHello({ legacyVersion: 0x0303, random: Buffer.alloc(32, 7), cipherSuites: [0x1301, 0xc02f, 0x5600], serverName: 'chat.lab', supportedVersions: [0x0304, 0x0303] });
    const body = record.subarray(9);
    const log = new FieldLog(body);
    const annotated = parseClientHello(body, log);
    expect(annotated).toEqual(parseClientHello(body));
    const fields = log.sorted();
    expectConsistent(fields, body);
    expect(fields.filter((f) => f.depth === 0).map((f) => f.name)).toEqual(['legacy_version', 'random', 'session_id', 'cipher_suites', 'compression_methods', 'extensions']);
    expect(fields.filter((f) => f.name === 'cipher_suite').map((f) => f.value)).toEqual(['TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_FALLBACK_SCSV']);
    expect(fields.find((f) => f.name === 'host_name')).toMatchObject({ value: 'chat.lab', length: 2 + 8, depth: 3 });
    expect(fields.filter((f) => f.name === 'version').map((f) => f.value)).toEqual(['TLSv1.3 (0x0304)', 'TLSv1.2 (0x0303)']);
    expect(fields.find((f) => f.name === 'random')!.value).toBe('07'.repeat(32));
  });

  it('a real node ClientHello: every field consistent, with offsets counted from the handshake header', async () => {
    const bytes = await captureClientHello({ servername: 'example.test', ALPNProtocols: ['secchat'] });
    const raw = bytes.subarray(5); // one record carries it
    const item = explainHandshakeMessage(HANDSHAKE_TYPE.client_hello, raw, 'client', 0);
    expect(item.title).toBe('ClientHello');
    expectConsistent(item.fields, raw);
    expect(item.fields.find((f) => f.name === 'protocol_name')!.value).toBe('secchat');
    expect(item.fields.find((f) => f.name === 'group')!.value).toBe('X25519');
  });

  it('a ServerHello: selected version, key share group, suite', () => {
    const body = serverHelloBody();
    const log = new FieldLog(body, 4);
    expect(parseServerHello(body, log)).toEqual(parseServerHello(body));
    const fields = log.sorted();
    expectConsistent(fields, body, 4);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f.value]));
    expect(byName).toMatchObject({ cipher_suite: 'TLS_AES_128_GCM_SHA256', selected_version: 'TLSv1.3 (0x0304)', group: 'X25519', session_id: '4 bytes: 01020304', compression_method: 'null' });
  });

  it('a truncated hello keeps the fields read before the cut and says it is malformed', () => {
    const raw = encodeHandshakeMessage(HANDSHAKE_TYPE.server_hello, serverHelloBody().subarray(0, 38));
    const item = explainHandshakeMessage(HANDSHAKE_TYPE.server_hello, raw, 'server', 0);
    expect(item.title).toMatch(/^ServerHello \(malformed: ServerHello: truncated at session_id\)$/);
    expect(item.fields.map((f) => f.name)).toEqual(['msg_type', 'length', 'legacy_version', 'random']);
  });

  it('property: for any suites, groups and name, annotation is consistent and parsing unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 10 }),
        fc.stringMatching(/^[a-z0-9.-]{1,40}$/),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (suites, groups, name, random) => {
          const body = buildClientHello({ legacyVersion: 0x0303, random: Buffer.from(random), cipherSuites: suites, supportedGroups: groups, serverName: name }).subarray(9);
          const log = new FieldLog(body);
          expect(parseClientHello(body, log)).toEqual(parseClientHello(body));
          expectConsistent(log.sorted(), body);
          expect(log.fields.filter((f) => f.name === 'cipher_suite')).toHaveLength(suites.length);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('explainTlsStream: one direction of a connection', () => {
  it('a STARTTLS greeting, a hello split over two records, a CCS, then encrypted records', () => {
    const hello = buildClientHello({ legacyVersion: 0x0303, random: Buffer.alloc(32, 1), cipherSuites: [0x1301] });
    const msg = hello.subarray(5);
    const greeting = Buffer.from('{"type":"starttls"}\n');
    const stream = Buffer.concat([
      greeting,
      encodeRecord(CONTENT_TYPE.handshake, 0x0301, msg.subarray(0, 10)),
      encodeRecord(CONTENT_TYPE.handshake, 0x0301, msg.subarray(10)),
      encodeRecord(CONTENT_TYPE.change_cipher_spec, 0x0303, Buffer.from([1])),
      encodeRecord(CONTENT_TYPE.application_data, 0x0303, Buffer.alloc(40)),
      encodeRecord(CONTENT_TYPE.application_data, 0x0303, Buffer.alloc(30)),
    ]);
    const items = explainTlsStream(stream, 'client');
    expect(items.map((i) => `${i.kind}:${i.streamOffset}`)).toEqual([
      'preamble:0',
      `record:${greeting.length}`,
      `record:${greeting.length + 15}`,
      `handshake:${greeting.length}`, // the message begins in the first record
      `record:${greeting.length + 15 + 5 + msg.length - 10}`,
      `encrypted:${greeting.length + 15 + 5 + msg.length - 10 + 6}`,
    ]);
    expect(items[5]!.title).toMatch(/^2 encrypted records, 80 bytes/);
    const header = items[1]!.fields;
    expect(header.map((f) => [f.offset, f.name, f.value])).toEqual([
      [greeting.length, 'content_type', 'handshake (22)'],
      [greeting.length + 1, 'legacy_record_version', 'TLSv1 (0x0301)'],
      [greeting.length + 3, 'length', '10 bytes'],
    ]);
    expectConsistent(items[3]!.fields, msg);
  });

  it('bytes that are not TLS, and a stream cut mid-record', () => {
    expect(explainTlsStream(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'client')).toEqual([expect.objectContaining({ kind: 'error', title: 'no TLS ClientHello record in these 18 bytes' })]);
    const hello = buildClientHello({ legacyVersion: 0x0303, random: Buffer.alloc(32, 1), cipherSuites: [0x1301] });
    const items = explainTlsStream(Buffer.concat([hello, hello.subarray(0, 7)]), 'client');
    expect(items.at(-1)).toMatchObject({ kind: 'error', streamOffset: hello.length, title: '7 bytes of an incomplete record at the end (the capture stopped mid-record)' });
    const alert = explainTlsStream(Buffer.concat([hello, Buffer.from([21, 3, 3, 0, 2, 2, 86])]), 'client').at(-1)!;
    expect(alert.fields.slice(3).map((f) => f.value)).toEqual(['fatal (2)', 'inappropriate_fallback (86)']);
  });
});
