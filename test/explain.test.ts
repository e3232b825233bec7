/**
 * `secchat explain`: real loopback TLS handshakes, captured, explained field by field — and every
 * value checked against what tshark (Wireshark's dissector, which nobody here wrote) reads from the
 * same file. One capture is written by secchat's pcap writer, one by dumpcap from the kernel's
 * loopback interface with openssl s_client as the client.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainFile, type ExplainedConnection } from '../cli/commands/explain.ts';
import { main } from '../cli/main.ts';
import { PcapWriter } from '../core/pcap.ts';
import { recordTlsSession } from './helpers/record-tls-session.ts';
import { rsaTestCert } from './helpers/test-cert.ts';
import { hasTshark, tshark } from './helpers/tshark.ts';

type Item = ExplainedConnection['items'][number];
type Field = Item['fields'][number];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'secchat-explain-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hello(conn: ExplainedConnection, title: 'ClientHello' | 'ServerHello'): Field[] {
  const item = conn.items.find((i) => i.kind === 'handshake' && i.title === title);
  if (!item) throw new Error(`no ${title} in ${conn.items.map((i) => i.title).join(', ')}`);
  return item.fields;
}
const one = (fields: Field[], name: string) => {
  const f = fields.filter((x) => x.name === name);
  if (f.length !== 1) throw new Error(`${f.length} fields named ${name}`);
  return f[0]!;
};
const all = (fields: Field[], name: string) => fields.filter((x) => x.name === name);
const hex16 = (f: Field) => `0x${f.hex}`;

/** tshark's values for each ClientHello (type 1) and ServerHello (type 2), per TCP stream. */
function tsharkHellos(file: string, port: number): Array<Record<string, string>> {
  const names = [
    'tcp.stream',
    'tls.handshake.type',
    'tls.handshake.version',
    'tls.handshake.random',
    'tls.handshake.session_id',
    'tls.handshake.ciphersuite',
    'tls.handshake.extensions_server_name',
    'tls.handshake.extensions.supported_version',
    'tls.handshake.extensions_key_share_group',
    'tls.handshake.extensions_supported_group',
    'tls.handshake.sig_hash_alg',
  ];
  const out = tshark(['-r', file, '-d', `tcp.port==${port},tls`, '-Y', 'tls.handshake.type == 1 || tls.handshake.type == 2', '-T', 'fields', '-E', 'separator=|', ...names.flatMap((n) => ['-e', n])]);
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => Object.fromEntries(line.split('|').map((v, i) => [names[i]!, v])));
}

/** tshark's own name for each offered cipher suite value, from its packet details (PDML). */
function tsharkSuiteNames(file: string, port: number): Map<string, string> {
  const pdml = tshark(['-r', file, '-d', `tcp.port==${port},tls`, '-Y', 'tls.handshake.type == 1', '-T', 'pdml']);
  const names = new Map<string, string>();
  for (const m of pdml.matchAll(/name="tls\.handshake\.ciphersuite" showname="Cipher Suite: ([A-Za-z0-9_]+) \((0x[0-9a-f]{4})\)"/g)) names.set(m[2]!, m[1]!);
  return names;
}

/** Explain's fields compared with tshark's values for one connection's two hellos. */
function expectSameAsTshark(conn: ExplainedConnection, t: Array<Record<string, string>>, stream: number): void {
  const [ch, sh] = [1, 2].map((type) => t.find((r) => r['tcp.stream'] === String(stream) && r['tls.handshake.type'] === String(type))!);
  expect(ch, 'tshark saw the ClientHello').toBeDefined();
  expect(sh, 'tshark saw the ServerHello').toBeDefined();

  const c = hello(conn, 'ClientHello');
  expect(hex16(one(c, 'legacy_version'))).toBe(ch['tls.handshake.version']);
  expect(one(c, 'random').hex).toBe(ch['tls.handshake.random']);
  expect(one(c, 'random').value).toBe(ch['tls.handshake.random']);
  expect(all(c, 'cipher_suite').map(hex16).join(',')).toBe(ch['tls.handshake.ciphersuite']);
  expect(one(c, 'host_name').value).toBe(ch['tls.handshake.extensions_server_name']);
  expect(all(c, 'version').map(hex16).join(',')).toBe(ch['tls.handshake.extensions.supported_version']);
  expect(all(c, 'named_group').map(hex16).join(',')).toBe(ch['tls.handshake.extensions_supported_group']);
  expect(all(c, 'signature_scheme').map(hex16).join(',')).toBe(ch['tls.handshake.sig_hash_alg']);
  expect(all(c, 'group').map((f) => String(parseInt(f.hex, 16))).join(',')).toBe(ch['tls.handshake.extensions_key_share_group']);

  const s = hello(conn, 'ServerHello');
  expect(hex16(one(s, 'legacy_version'))).toBe(sh['tls.handshake.version']);
  expect(one(s, 'random').hex).toBe(sh['tls.handshake.random']);
  expect(hex16(one(s, 'cipher_suite'))).toBe(sh['tls.handshake.ciphersuite']);
  expect(all(s, 'selected_version').map(hex16).join(',')).toBe(sh['tls.handshake.extensions.supported_version']);
  expect(all(s, 'group').map((f) => String(parseInt(f.hex, 16))).join(',')).toBe(sh['tls.handshake.extensions_key_share_group']);
  // Session id: tshark prints the bytes without the length; ours spans the length prefix too.
  expect(one(s, 'session_id').hex.slice(2)).toBe(sh['tls.handshake.session_id']);
}

const TSHARK_TITLE = hasTshark ? 'checked against tshark' : 'tshark interop — SKIPPED: tshark is not installed (apt-get install tshark; .ci/run does)';

describe.skipIf(!hasTshark && !process.env.CI)(`secchat explain: a captured handshake, field by field, ${TSHARK_TITLE}`, () => {
  async function captureSession(name: string, opts: Parameters<typeof recordTlsSession>[0]) {
    const s = await recordTlsSession(opts);
    const w = new PcapWriter();
    w.addConversation({ client: { ip: '127.0.0.1', port: 40000 }, server: { ip: '127.0.0.1', port: s.relayPort }, events: s.events, mssBytes: 200 });
    const file = path.join(dir, name);
    writeFileSync(file, w.toBuffer());
    return { s, file, port: s.relayPort };
  }

  it('TLS 1.3: version, random, every cipher suite, SNI, supported_versions, groups, signature schemes, key_share group, selected suite', async () => {
    const { s, file, port } = await captureSession('tls13.pcap', { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(s.protocol).toBe('TLSv1.3');
    const conns = explainFile(file);
    expect(conns).toHaveLength(1);
    expectSameAsTshark(conns[0]!, tsharkHellos(file, port), 0);
    // The negotiated suite as node reports it, named the same way.
    expect(one(hello(conns[0]!, 'ServerHello'), 'cipher_suite').value).toBe(s.cipher.standardName);
  });

  it('TLS 1.2 (ECDHE, no supported_versions in the ServerHello): the same fields agree', async () => {
    const { s, file, port } = await captureSession('tls12.pcap', { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect(s.protocol).toBe('TLSv1.2');
    const conns = explainFile(file);
    expectSameAsTshark(conns[0]!, tsharkHellos(file, port), 0);
    expect(one(hello(conns[0]!, 'ServerHello'), 'cipher_suite').value).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    // TLS 1.2 sends the whole handshake but Finished in the clear; the ticket comes before the server's ChangeCipherSpec.
    const titles = conns[0]!.items.filter((i) => i.kind === 'handshake').map((i) => `${i.from}:${i.title}`);
    expect(titles).toEqual(['client:ClientHello', 'server:ServerHello', 'server:Certificate', 'server:ServerKeyExchange', 'server:ServerHelloDone', 'client:ClientKeyExchange', 'server:NewSessionTicket']);
  });

  it('names every cipher suite node offers as tshark does', async () => {
    const { file, port } = await captureSession('names.pcap', { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    const theirs = tsharkSuiteNames(file, port);
    const ours = all(hello(explainFile(file)[0]!, 'ClientHello'), 'cipher_suite');
    // node's default client offers DSS, CCM and ARIA suites too: all of them have names here.
    expect(ours.filter((f) => f.value!.startsWith('0x')).map(hex16)).toEqual([]);
    expect(ours.length).toBeGreaterThan(10);
    for (const f of ours) expect(`${hex16(f)} ${f.value}`).toBe(`${hex16(f)} ${theirs.get(hex16(f))}`);
  });

  it('the text output shows offsets, lengths, names, raw bytes and values', async () => {
    const { file } = await captureSession('text.pcap', { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    let out = '';
    expect(await main(['node', 'secchat', 'explain', file], { out: (t) => (out += t), err: () => {}, interactive: false })).toBe(0);
    const random = one(hello(explainFile(file)[0]!, 'ClientHello'), 'random').hex;
    expect(out).toMatch(new RegExp(`^ {4}6 +32 {2}random +${random.slice(0, 16)}… +${random}$`, 'm'));
    expect(out).toMatch(/^ {4}0 +1 {2}msg_type +01 +client_hello \(1\)$/m);
    expect(out).toMatch(/^ {4}\d+ +11 {8}host_name +[0-9a-f]{16}… +localhost$/m);
    expect(out).toMatch(/cipher_suite +1302 +TLS_AES_256_GCM_SHA384$/m);
    expect(out).toMatch(/selected_version +0304 +TLSv1\.3 \(0x0304\)$/m);
    expect(out).toMatch(/server → client {2}\d+ encrypted records?, \d+ bytes/);
  });
});

/** Whether dumpcap can capture on the loopback interface here (root or CAP_NET_RAW): a 1 s trial capture. */
const canCapture = ((): boolean => {
  if (!hasTshark) return false;
  const probe = path.join(tmpdir(), `secchat-dumpcap-probe-${process.pid}.pcap`);
  const ok = spawnSync('dumpcap', ['-q', '-P', '-i', 'lo', '-a', 'duration:1', '-w', probe], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  rmSync(probe, { force: true });
  return ok;
})();
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
const LIVE_TITLE = canCapture && hasOpenssl ? 'a kernel capture (dumpcap on lo) of openssl s_client' : 'live capture — SKIPPED: dumpcap cannot capture on lo here (needs root or CAP_NET_RAW) or openssl is missing';

describe.skipIf(!canCapture || !hasOpenssl || !hasTshark)(`secchat explain: ${LIVE_TITLE}`, () => {
  it('reads a dumpcap pcap of s_client ↔ node:tls and agrees with tshark', async () => {
    const { keyPem, certPem } = rsaTestCert();
    const server = tls.createServer({ key: keyPem, cert: certPem }, (s) => s.end('bye\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const file = path.join(dir, 'live.pcap');
    const cap = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `tcp port ${port}`, '-P', '-w', file, '-a', 'duration:20'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('dumpcap did not start within 10 s')), 10_000);
        let err = '';
        cap.stderr!.on('data', (d) => {
          err += d;
          if (err.includes('Capturing on')) {
            clearTimeout(timer);
            resolve();
          }
        });
        cap.on('exit', (code) => reject(new Error(`dumpcap exited ${code}: ${err}`)));
      });
      // Asynchronous: the server answering s_client runs on this event loop.
      const client = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'explain.test', '-tls1_3', '-groups', 'P-256:X25519'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
      let said = '';
      client.stdout!.on('data', (d) => (said += d));
      await new Promise((r) => client.once('exit', r));
      expect(said).toContain('TLSv1.3');
      await new Promise((r) => setTimeout(r, 500)); // let the last segments reach the capture
    } finally {
      const exited = new Promise((r) => cap.once('exit', r));
      cap.kill('SIGTERM');
      await exited;
      await new Promise<void>((r) => server.close(() => r()));
    }
    const conns = explainFile(file);
    expect(conns).toHaveLength(1);
    expect(conns[0]!.server).toBe(`127.0.0.1:${port}`);
    expectSameAsTshark(conns[0]!, tsharkHellos(file, port), 0);
    expect(one(hello(conns[0]!, 'ClientHello'), 'host_name').value).toBe('explain.test');
    expect(all(hello(conns[0]!, 'ClientHello'), 'group').map((f) => f.value)).toEqual(['P-256']);
  }, 40_000);
});

describe('secchat explain: bad input', () => {
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['node', 'secchat', 'explain', ...args], { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
    return { code, out, err };
  };

  it('--help describes the command', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('field by field');
    expect(r.out).toContain('<capture>');
  });

  it('a missing file, a text file, a pcapng file and a truncated pcap exit 2 naming the problem', async () => {
    expect(await run(path.join(dir, 'nope.pcap'))).toMatchObject({ code: 2, err: expect.stringContaining('no such file') });
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'hello, this is not a capture\n');
    expect(await run(text)).toMatchObject({ code: 2, err: expect.stringContaining('not a pcap file') });
    const ng = path.join(dir, 'x.pcapng');
    writeFileSync(ng, Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'));
    expect(await run(ng)).toMatchObject({ code: 2, err: expect.stringContaining('pcapng') });
    const w = new PcapWriter();
    w.addConversation({ client: { ip: '127.0.0.1', port: 1 }, server: { ip: '127.0.0.1', port: 2 }, events: [{ dir: 'c2s', data: Buffer.from('x'), timeMs: 1 }] });
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, w.toBuffer().subarray(0, 60));
    expect(await run(cut)).toMatchObject({ code: 2, err: expect.stringContaining('past the end of the file') });
  });

  it('a pcap of plain text says there is no TLS instead of failing', async () => {
    const w = new PcapWriter();
    w.addConversation({ client: { ip: '127.0.0.1', port: 5000 }, server: { ip: '127.0.0.1', port: 6000 }, events: [{ dir: 'c2s', data: Buffer.from('{"type":"login"}\n'), timeMs: 1 }] });
    const file = path.join(dir, 'plain.pcap');
    writeFileSync(file, w.toBuffer());
    const r = await run(file);
    expect(r.code).toBe(0);
    expect(r.out).toContain('no TLS ClientHello record in these 17 bytes');
  });
});
