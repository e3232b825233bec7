/**
 * The evidence readers (attacks/kit/evidence.ts) driven by crafted observations: captured traffic
 * with the canary raw, in base64 fields and absent, on chosen layers; several refusals of
 * different kinds at once; altered, unaltered and missing deliveries. Every verdict is built from
 * these readers, so each test pins the exact evidence text or the exact choice made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyEngine, type Direction, type Layer, type ProxyConnectionRecord } from '../attacks/proxy.ts';
import {
  conversationEvidence,
  describeRefusal,
  excerptAround,
  findCanary,
  firstClientError,
  framesIn,
  isMacFailure,
  primaryRefusal,
  proxyEvidence,
  readableErrors,
  serverRefusals,
  sightingEvidence,
} from '../attacks/kit/evidence.ts';
import type { ClientObservation, Observations } from '../attacks/types.ts';

const CANARY = 'canary-0123456789abcdef01234567';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A real engine (never connected to anything) whose recorded traffic each test sets. */
let engine: ProxyEngine;
beforeAll(async () => {
  engine = await ProxyEngine.start({ upstream: { host: '127.0.0.1', port: 9 } });
});
afterAll(async () => {
  await engine.close();
});
function capture(chunks: Array<[conn: number, dir: Direction, layer: Layer, data: string | Buffer]>): ProxyEngine {
  engine.traffic.length = 0;
  for (const [conn, dir, layer, data] of chunks) engine.capture(conn, dir, layer, typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  return engine;
}

function client(over: Partial<ClientObservation> = {}): ClientObservation {
  return { connected: true, loggedIn: false, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [], ...over };
}
function observations(over: Partial<Observations> = {}): Observations {
  return {
    canary: CANARY,
    canaryMessage: `${CANARY} is the secret`,
    proxy: null,
    clients: { alice: client(), bob: client() },
    server: { log: [], port: 1 },
    bobReceived: null,
    bobCanaryCopies: 0,
    aliceReceived: null,
    durationMs: 1,
    ...over,
  };
}
function connection(over: Partial<ProxyConnectionRecord> = {}): ProxyConnectionRecord {
  return { id: 1, clientPeer: '127.0.0.1:1000', upstreamLocal: null, startedAtMs: 0, endedAtMs: null, mode: 'relay', clientHello: null, forwardedHello: null, clientHelloInfo: null, clientHop: null, serverHop: null, errors: [], notes: [], ...over };
}

describe('excerptAround', () => {
  it('keeps 40 bytes either side of the first occurrence, non-printable bytes as dots', () => {
    const before = 'B'.repeat(50);
    const after = 'A'.repeat(50);
    expect(excerptAround(Buffer.from(`${before}NEEDLE${after}NEEDLE`), 'NEEDLE')).toBe(`${'B'.repeat(40)}NEEDLE${'A'.repeat(40)}`);
    // near the start: nothing before offset 0 is invented
    expect(excerptAround(Buffer.from('xyNEEDLEz'), 'NEEDLE')).toBe('xyNEEDLEz');
  });
  it('finds a needle at offset 0 and reports none when it is absent', () => {
    expect(excerptAround(Buffer.from('NEEDLE rest'), 'NEEDLE')).toBe('NEEDLE rest');
    expect(excerptAround(Buffer.from('no needle here'), 'NEEDLE')).toBeNull();
    expect(excerptAround(Buffer.alloc(0), 'NEEDLE')).toBeNull();
  });
  it('reads each byte as one character: a two-byte UTF-8 letter is two dots, controls and DEL are dots, space and ~ stay', () => {
    const hay = Buffer.concat([Buffer.from([0x00, 0x1f, 0x20, 0x7e, 0x7f]), Buffer.from('é', 'utf8'), Buffer.from('NEEDLE')]);
    expect(excerptAround(hay, 'NEEDLE')).toBe('.. ~...NEEDLE');
  });
  it('takes the needle as bytes too, and a string needle as UTF-8', () => {
    expect(excerptAround(Buffer.from([1, 2, 0x41, 3]), Buffer.from([0x41, 3]))).toBe('..A.');
    expect(excerptAround(Buffer.from('café!', 'utf8'), 'é')).toBe('caf..!');
    expect(excerptAround(Buffer.from('caf\xe9!', 'latin1'), 'é')).toBeNull();
    // the context is counted in bytes after the needle's last byte, not in characters
    expect(excerptAround(Buffer.from(`é${'A'.repeat(41)}`, 'utf8'), 'é')).toBe(`..${'A'.repeat(40)}`);
  });
});

describe('findCanary', () => {
  it('finds the canary raw on every layer by default, one sighting per connection, direction and layer', () => {
    const eng = capture([
      [1, 'c2s', 'client-wire', `{"type":"dm","text":"${CANARY}"}\n`],
      [1, 'c2s', 'client-wire', `{"type":"dm","text":"${CANARY} again"}\n`],
      [1, 's2c', 'client-wire', 'nothing here'],
      [1, 's2c', 'server-wire', `x${CANARY}y`],
      [2, 'c2s', 'plaintext', `${CANARY}`],
    ]);
    expect(findCanary(eng, CANARY)).toEqual([
      { conn: 1, dir: 'c2s', layer: 'client-wire', encoding: 'raw', excerpt: `{"type":"dm","text":"${CANARY}"}.{"type":"dm","text":"${CANARY.slice(0, 16)}` },
      { conn: 1, dir: 's2c', layer: 'server-wire', encoding: 'raw', excerpt: `x${CANARY}y` },
      { conn: 2, dir: 'c2s', layer: 'plaintext', encoding: 'raw', excerpt: CANARY },
    ]);
  });
  it('reads only the layers asked for (the downgrade attack asks for the client wire or the plaintext alone)', () => {
    const eng = capture([
      [1, 'c2s', 'client-wire', 'ciphertext only'],
      [1, 'c2s', 'plaintext', `${CANARY}`],
      [1, 'c2s', 'server-wire', `${CANARY}`],
    ]);
    expect(findCanary(eng, CANARY, ['client-wire'])).toEqual([]);
    expect(findCanary(eng, CANARY, ['plaintext']).map((s) => s.layer)).toEqual(['plaintext']);
    expect(findCanary(eng, CANARY, ['client-wire', 'server-wire']).map((s) => s.layer)).toEqual(['server-wire']);
    expect(findCanary(eng, CANARY, [])).toEqual([]);
  });
  it('decodes base64 strings inside JSON frames, however deeply nested, and says so', () => {
    const eng = capture([
      [1, 'c2s', 'client-wire', `{"type":"dm","n":1,"ok":true,"none":null,"body":{"parts":[null,"plain","${b64(`hi ${CANARY}!`)}"]}}\n`],
    ]);
    expect(findCanary(eng, CANARY)).toEqual([{ conn: 1, dir: 'c2s', layer: 'client-wire', encoding: 'base64-field', excerpt: `hi ${CANARY}!` }]);
  });
  it('decodes a field holding just the canary (12 bytes: 16 base64 characters, no padding) and padded or URL-safe base64', () => {
    const short = 'canary-12345';
    expect(b64(short)).toHaveLength(16);
    expect(findCanary(capture([[1, 'c2s', 'client-wire', `{"d":"${b64(short)}"}`]]), short).map((s) => s.encoding)).toEqual(['base64-field']);
    // 11 bytes: 15 characters and one '='
    const eleven = 'canary-1234';
    expect(findCanary(capture([[1, 'c2s', 'client-wire', `{"d":"${b64(eleven)}"}`]]), eleven).map((s) => s.encoding)).toEqual(['base64-field']);
    const urlSafe = Buffer.from(`\xfb\xff${CANARY}`, 'latin1').toString('base64url');
    expect(urlSafe).toMatch(/[-_]/);
    expect(findCanary(capture([[1, 'c2s', 'client-wire', `{"d":"${urlSafe}"}`]]), CANARY).map((s) => s.encoding)).toEqual(['base64-field']);
  });
  it('reads every JSON line, also after lines that are not JSON and from a bare JSON string', () => {
    const eng = capture([[3, 's2c', 'plaintext', `\x16\x03\x01 binary\n{"broken":\n"${b64(CANARY)}"\n`]]);
    expect(findCanary(eng, CANARY)).toEqual([{ conn: 3, dir: 's2c', layer: 'plaintext', encoding: 'base64-field', excerpt: CANARY }]);
  });
  it('keeps reading after JSON lines and strings that do not hold the canary', () => {
    const eng = capture([[1, 'c2s', 'client-wire', `{"a":"${b64('nothing to see')}"}\n[1,{"b":"${b64(`x${CANARY}`)}"}]\n`]]);
    expect(findCanary(eng, CANARY)).toEqual([{ conn: 1, dir: 'c2s', layer: 'client-wire', encoding: 'base64-field', excerpt: `x${CANARY}` }]);
  });
  it('reports the raw sighting alone when the canary is both raw and base64-encoded, and one base64 sighting per stream', () => {
    const both = capture([[1, 'c2s', 'client-wire', `{"a":"${b64(CANARY)}"}\n{"text":"${CANARY}"}\n`]]);
    expect(findCanary(both, CANARY).map((s) => s.encoding)).toEqual(['raw']);
    const twice = capture([[1, 'c2s', 'client-wire', `{"a":"${b64(`1${CANARY}`)}"}\n{"b":"${b64(`22${CANARY}`)}"}\n`]]);
    expect(findCanary(twice, CANARY)).toEqual([{ conn: 1, dir: 'c2s', layer: 'client-wire', encoding: 'base64-field', excerpt: `1${CANARY}` }]);
  });
  it('finds nothing in traffic without the canary, in any encoding', () => {
    const eng = capture([
      [1, 'c2s', 'client-wire', `{"type":"dm","text":"${b64('canary-ffff')}","n":3}\n`],
      [1, 's2c', 'plaintext', `{"x":["${CANARY.slice(0, -1)}"]}\n`],
    ]);
    expect(findCanary(eng, CANARY)).toEqual([]);
  });
  it('a base64 field that holds the canary only misaligned (text before it) is not a sighting', () => {
    // node's decoder skips the spaces and colon: 10 letters shift the 6-bit groups
    const eng = capture([[1, 'c2s', 'client-wire', `{"d":"hello world: ${b64(CANARY)}"}`]]);
    expect(findCanary(eng, CANARY)).toEqual([]);
  });
});

describe('sightingEvidence', () => {
  it('names the canary, connection, direction, layer and the encoding found, with the excerpt', () => {
    expect(
      sightingEvidence(
        [
          { conn: 2, dir: 'c2s', layer: 'client-wire', encoding: 'raw', excerpt: 'abc' },
          { conn: 3, dir: 's2c', layer: 'plaintext', encoding: 'base64-field', excerpt: 'xyz' },
        ],
        CANARY,
      ),
    ).toEqual([
      { kind: 'canary-recovered', detail: `canary ${CANARY} read by the attacker on connection 2 (c2s, client-wire): …abc…` },
      { kind: 'canary-recovered', detail: `canary ${CANARY} read by the attacker on connection 3 (s2c, plaintext, decoded from a base64 field): …xyz…` },
    ]);
    expect(sightingEvidence([], CANARY)).toEqual([]);
  });
});

describe('firstClientError', () => {
  it("takes alice's error first, then bob's, else none", () => {
    const aliceErr = { code: 'CERT', message: 'bad cert', details: { depth: 0 } };
    const bobErr = { code: 'RESET', message: 'reset' };
    expect(firstClientError(observations({ clients: { alice: client({ error: aliceErr }), bob: client({ error: bobErr }) } }))).toEqual({ who: 'alice', ...aliceErr });
    expect(firstClientError(observations({ clients: { alice: client(), bob: client({ error: bobErr }) } }))).toEqual({ who: 'bob', ...bobErr });
    expect(firstClientError(observations())).toBeNull();
  });
});

describe('conversationEvidence', () => {
  it('describes each client hop and an unaltered delivery', () => {
    const obs = observations({
      clients: {
        alice: client({ loggedIn: true, negotiated: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519' } }),
        bob: client({
          negotiated: { protocol: null, cipher: null, group: null },
          channel: { keyExchange: 'ecdhe', cipher: 'aes-256-gcm', transcriptMac: true, replayProtection: 'sequence', warnings: [] } as unknown as ClientObservation['channel'],
        }),
      },
      bobReceived: `${CANARY} is the secret`,
    });
    expect(conversationEvidence(obs)).toEqual([
      { kind: 'client-alice', detail: 'alice connected (TLSv1.3 TLS_AES_128_GCM_SHA256 X25519) and logged in' },
      { kind: 'client-bob', detail: 'bob connected (? ?; secure channel ecdhe aes-256-gcm, replay protection sequence)' },
      { kind: 'delivery', detail: "bob received alice's message unaltered" },
    ]);
  });
  it('names a stopped client and an ALTERED message, quoting what bob got', () => {
    const obs = observations({
      clients: { alice: client({ error: { code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: 'wrong host' } }), bob: client({ loggedIn: true }) },
      bobReceived: 'pay "mallory"',
    });
    expect(conversationEvidence(obs)).toEqual([
      { kind: 'client-alice', detail: 'alice stopped: ERR_TLS_CERT_ALTNAME_INVALID: wrong host' },
      { kind: 'client-bob', detail: 'bob connected (no TLS) and logged in' },
      { kind: 'delivery', detail: 'bob received an ALTERED message: "pay \\"mallory\\""' },
    ]);
  });
  it('says when bob received nothing', () => {
    expect(conversationEvidence(observations()).at(-1)).toEqual({ kind: 'delivery', detail: 'bob received no message from alice' });
    // an empty message is a delivery, and an altered one
    expect(conversationEvidence(observations({ bobReceived: '' })).at(-1)).toEqual({ kind: 'delivery', detail: 'bob received an ALTERED message: ""' });
  });
});

describe('proxyEvidence', () => {
  it('lists every connection note and how terminated TLS went on each hop', () => {
    const obs = observations({
      proxy: {
        engine,
        connections: [
          connection({ id: 1, notes: ['served a forged certificate', 'victim closed'], mode: 'terminate', clientHop: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', group: null }, serverHop: null }),
          connection({ id: 2, mode: 'terminate', clientHop: null, serverHop: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: null } }),
          connection({ id: 3, mode: 'relay', notes: ['relayed'] }),
          connection({ id: 4, mode: 'kill' }),
        ],
      },
    });
    expect(proxyEvidence(obs)).toEqual([
      { kind: 'proxy-note', detail: 'connection 1: served a forged certificate' },
      { kind: 'proxy-note', detail: 'connection 1: victim closed' },
      { kind: 'proxy-tls', detail: 'connection 1: attacker terminated TLS — victim hop TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256, server hop did not complete' },
      { kind: 'proxy-tls', detail: 'connection 2: attacker terminated TLS — victim hop did not complete, server hop TLSv1.3 TLS_AES_256_GCM_SHA384' },
      { kind: 'proxy-note', detail: 'connection 3: relayed' },
    ]);
  });
  it('is empty without a proxy', () => {
    expect(proxyEvidence(observations())).toEqual([]);
  });
});

describe('serverRefusals', () => {
  const log = [
    { event: 'login', peer: 'a:1' },
    { event: 'channel_error', peer: 'a:1', code: 'bad_mac' },
    { event: 'socket_error', peer: 'b:2', code: 'ECONNRESET' },
    { event: 'tls_error', peer: 'a:1', code: 'ERR_SSL_X' },
    { event: 'protocol_error', peer: 'b:2', code: 'bad_json' },
    { event: 'dm', peer: 'b:2' },
    { event: 'tls_error', code: 'no peer' },
  ];
  const obs = observations({ server: { log, port: 1 } });
  it('keeps only the four refusal events, all peers when none is named', () => {
    expect(serverRefusals(obs).map((e) => e.code)).toEqual(['bad_mac', 'ECONNRESET', 'ERR_SSL_X', 'bad_json', 'no peer']);
  });
  it("keeps one peer's refusals when a peer is named, none for an unknown (null) peer", () => {
    expect(serverRefusals(obs, 'a:1').map((e) => e.code)).toEqual(['bad_mac', 'ERR_SSL_X']);
    expect(serverRefusals(obs, 'b:2').map((e) => e.code)).toEqual(['ECONNRESET', 'bad_json']);
    expect(serverRefusals(obs, 'c:3')).toEqual([]);
    expect(serverRefusals(obs, null)).toEqual([]);
  });
});

describe('isMacFailure and describeRefusal', () => {
  it('recognises each spelling of a record MAC failure, in the code or the message, any case', () => {
    for (const r of [
      { code: 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC' },
      { message: 'decryption failed or bad record mac' },
      { code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC' },
      { message: 'error:1C800064:Provider routines::bad_decrypt DECRYPTION_FAILED' },
      { code: 'ERR_CRYPTO_CIPHER_OPERATION_FAILED' },
      { code: 'err_ssl_bad_record_mac' },
      { message: 'Bad Record MAC' },
    ]) {
      expect(isMacFailure(r), JSON.stringify(r)).toBe(true);
    }
  });
  it('does not call other errors a MAC failure (a pattern matching everything would turn every refusal into one)', () => {
    for (const r of [{ code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' }, { code: 'ECONNRESET' }, {}, { code: 'BAD_RECORD', message: 'MAC' }]) {
      expect(isMacFailure(r), JSON.stringify(r)).toBe(false);
    }
  });
  it('names a channel refusal first, even one that mentions a MAC', () => {
    expect(describeRefusal({ event: 'channel_error', code: 'bad_record_mac', message: 'frame MAC mismatch' })).toBe('the secure channel refused it (bad_record_mac): frame MAC mismatch');
    expect(describeRefusal({ event: 'channel_error' })).toBe('the secure channel refused it (): ');
  });
  it('names a MAC failure by its code, else by the first 80 characters of its message', () => {
    expect(describeRefusal({ event: 'tls_error', code: 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC', message: 'alert' })).toBe('the TLS record MAC check failed (ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC)');
    const long = `bad record mac ${'x'.repeat(100)}`;
    expect(describeRefusal({ event: 'socket_error', message: long })).toBe(`the TLS record MAC check failed (${long.slice(0, 80)})`);
  });
  it('names a handshake failure with code and the first 120 characters of its message', () => {
    const long = 'y'.repeat(130);
    expect(describeRefusal({ event: 'tls_error', code: 'ERR_SSL_NO_SHARED_CIPHER', message: long })).toBe(`the TLS handshake failed (ERR_SSL_NO_SHARED_CIPHER: ${'y'.repeat(120)})`);
    expect(describeRefusal({ event: 'tls_error' })).toBe('the TLS handshake failed (: )');
  });
  it('names any other refusal by event, code and message, trimmed', () => {
    expect(describeRefusal({ event: 'protocol_error', code: 'bad_json', message: `m${'z'.repeat(130)}` })).toBe(`protocol_error bad_json: m${'z'.repeat(119)}`);
    expect(describeRefusal({ event: 'socket_error', code: 'ECONNRESET' })).toBe('socket_error ECONNRESET:');
    expect(describeRefusal({ event: 'socket_error', message: '  ' })).toBe('socket_error :');
  });
});

describe('primaryRefusal (which refusal a "blocked" names)', () => {
  const other = { event: 'socket_error', code: 'ECONNRESET', message: 'reset' };
  const handshake = { event: 'tls_error', code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version' };
  const mac = { event: 'socket_error', code: 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC', message: 'bad record mac' };
  const channel = { event: 'channel_error', code: 'bad_mac', message: 'record MAC mismatch' };
  it('prefers a channel error, then a MAC failure, then a handshake error, then anything else, wherever each stands', () => {
    expect(primaryRefusal([other, handshake, mac, channel])).toBe(channel);
    expect(primaryRefusal([channel, other, handshake, mac])).toBe(channel);
    expect(primaryRefusal([other, handshake, mac])).toBe(mac);
    expect(primaryRefusal([mac, handshake, other])).toBe(mac);
    expect(primaryRefusal([other, handshake])).toBe(handshake);
    expect(primaryRefusal([handshake, other])).toBe(handshake);
    expect(primaryRefusal([other])).toBe(other);
    expect(primaryRefusal([])).toBeUndefined();
  });
  it('takes the first of equally telling refusals and leaves the list as it was', () => {
    const second = { ...handshake, code: 'ERR_SSL_OTHER' };
    const list = [other, handshake, second];
    expect(primaryRefusal(list)).toBe(handshake);
    expect(primaryRefusal([other, second, handshake])).toBe(second);
    expect(list).toEqual([other, handshake, second]);
  });
});

describe('framesIn and readableErrors', () => {
  it('reads frames in order, skipping lines that are not frames', () => {
    expect(framesIn(Buffer.from('not json\n{"type":"a"}\n{"no":"type"}\n{"type":"b","n":1}\n'))).toEqual([{ type: 'a' }, { type: 'b', n: 1 }]);
    expect(framesIn(Buffer.alloc(0))).toEqual([]);
  });
  it('stops at a line longer than the limit (fatal), keeping what came before', () => {
    expect(framesIn(Buffer.from(`{"type":"a"}\n${'A'.repeat(40)}`), 32)).toEqual([{ type: 'a' }]);
    // a whole line over the limit ends the reading too: the frames after it are not read
    expect(framesIn(Buffer.from(`{"type":"a"}\n{"type":"big","t":"${'x'.repeat(40)}"}\n{"type":"c"}\n`), 32)).toEqual([{ type: 'a' }]);
    // the default limit is 1 MiB: a 2 KiB line is still read
    expect(framesIn(Buffer.from(`{"type":"b","t":"${'x'.repeat(2048)}"}\n`))).toHaveLength(1);
  });
  it('lists error frames as "code: message" and nothing else', () => {
    expect(readableErrors(Buffer.from('{"type":"dm","text":"hi"}\n{"type":"error","code":"replay","message":"seen before"}\n{"type":"error"}\n'))).toEqual(['replay: seen before', 'undefined: undefined']);
    expect(readableErrors(Buffer.from('\x17\x03\x03 encrypted'))).toEqual([]);
  });
});
