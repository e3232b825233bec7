import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptRecordedTls12 } from '../attacks/retro/tls12-decrypt.ts';
import { LINKTYPE_ETHERNET, PcapWriter, internetChecksum, ipv4Header, tcpChecksum, type ConversationEvent } from '../core/pcap.ts';
import { readPcap, type DecodedPacket } from './helpers/read-pcap.ts';
import { recordTlsSession, type RecordedSession } from './helpers/record-tls-session.ts';
import { rsaTestCert } from './helpers/test-cert.ts';
import { followTcpRaw, hasTshark, tshark } from './helpers/tshark.ts';

const T0 = 1_700_000_000_000;
const client = { ip: '10.0.0.1', port: 50000 };
const server = { ip: '10.0.0.2', port: 8443 };
const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const events: ConversationEvent[] = [
  { dir: 'c2s', data: Buffer.from('hello'), timeMs: T0 },
  { dir: 's2c', data: pattern(5000, 1), timeMs: T0 + 10 },
  { dir: 'c2s', data: pattern(3001, 2), timeMs: T0 + 11 },
  { dir: 'c2s', data: Buffer.alloc(0), timeMs: T0 + 12 },
  { dir: 's2c', data: Buffer.from('bye'), timeMs: T0 + 20.5 },
];
const joined = (dir: 'c2s' | 's2c', evs: ConversationEvent[]) => Buffer.concat(evs.filter((e) => e.dir === dir).map((e) => e.data));

describe('checksums (RFC 1071, RFC 791, RFC 9293 §3.1)', () => {
  it('Internet checksum: the RFC 1071 §3 example and odd lengths', () => {
    expect(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).toBe(0x220d); // sum ddf2, complemented
    expect(internetChecksum(Buffer.from([0x01]))).toBe(0xfeff); // odd byte padded with zero
    expect(internetChecksum(Buffer.from('0001f2', 'hex'), Buffer.from('03f4f5f6f7', 'hex'))).toBe(0x220d); // split across parts
  });

  it('IPv4 header checksum: the classic 192.168.0.1 → 192.168.0.199 example is 0xb861', () => {
    // 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7 (UDP, so build it by hand).
    const h = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    expect(internetChecksum(h)).toBe(0xb861);
    const ours = ipv4Header('192.168.0.1', '192.168.0.199', 20, 7);
    expect(internetChecksum(ours)).toBe(0); // a header with its checksum sums to zero
  });

  it('TCP checksum over the pseudo-header, computed by hand (python3) for a 2-byte segment', () => {
    // 50000 → 8443, seq 1, ack 1, PSH|ACK, window 65535, payload "hi", 10.0.0.1 → 10.0.0.2.
    const seg = Buffer.from('c35020fb00000001000000015018ffff000000006869', 'hex');
    expect(tcpChecksum('10.0.0.1', '10.0.0.2', seg)).toBe(0x4f11);
    seg.writeUInt16BE(0x4f11, 16);
    expect(tcpChecksum('10.0.0.1', '10.0.0.2', seg)).toBe(0x4f11); // its own checksum field is ignored
  });
});

describe('PcapWriter: the file, read back by an independent decoder', () => {
  const w = new PcapWriter();
  w.addConversation({ client, server, events, isn: { client: 0xfffffff0, server: 1000 } }); // client seq wraps
  const file = w.toBuffer();
  const { linktype, packets } = readPcap(file);

  it('is classic pcap, Ethernet, with a SYN / SYN-ACK / ACK start and FIN teardown', () => {
    expect(linktype).toBe(LINKTYPE_ETHERNET);
    expect(file.subarray(0, 4)).toEqual(Buffer.from('d4c3b2a1', 'hex'));
    const f = (p: DecodedPacket) => p.flags;
    expect(packets.slice(0, 3).map(f)).toEqual([0x02, 0x12, 0x10]);
    expect(packets[0]!.seq).toBe(0xfffffff0);
    expect(packets[1]!.ack).toBe(0xfffffff1);
    expect(packets.slice(-3).map(f)).toEqual([0x11, 0x11, 0x10]);
    expect(packets[0]!.timeUs).toBe((T0 - 1) * 1000);
  });

  it('every IPv4 and TCP checksum verifies, and timestamps never go back', () => {
    for (const p of packets) {
      expect(internetChecksum(p.ipHeader)).toBe(0);
      expect(p.segment.readUInt16BE(16)).toBe(tcpChecksum(p.srcIp, p.dstIp, p.segment));
    }
    for (let i = 1; i < packets.length; i++) expect(packets[i]!.timeUs).toBeGreaterThan(packets[i - 1]!.timeUs);
  });

  it('segments are ≤ 1460 bytes, sequence numbers are contiguous, ACKs acknowledge what was sent', () => {
    const next = new Map<string, number>();
    const data = new Map<string, Buffer[]>([['10.0.0.1', []], ['10.0.0.2', []]]);
    for (const p of packets) {
      expect(p.payload.length).toBeLessThanOrEqual(1460);
      const expected = next.get(p.srcIp);
      if (expected !== undefined) expect(p.seq).toBe(expected);
      next.set(p.srcIp, (p.seq + p.payload.length + (p.flags & 0x03 ? 1 : 0)) >>> 0);
      const peerNext = next.get(p.dstIp);
      if (p.flags & 0x10 && peerNext !== undefined) expect(p.ack).toBe(peerNext);
      data.get(p.srcIp)!.push(p.payload);
    }
    expect(Buffer.concat(data.get('10.0.0.1')!)).toEqual(joined('c2s', events));
    expect(Buffer.concat(data.get('10.0.0.2')!)).toEqual(joined('s2c', events));
  });

  it('is reproducible and rejects bad input', () => {
    const again = new PcapWriter();
    again.addConversation({ client, server, events, isn: { client: 0xfffffff0, server: 1000 } });
    expect(again.toBuffer()).toEqual(file);
    expect(() => new PcapWriter().addConversation({ client: { ip: '::1', port: 1 }, server, events: [] })).toThrow(RangeError);
    expect(() => new PcapWriter().addConversation({ client: { ip: '10.0.0.1', port: 0 }, server, events: [] })).toThrow(/port/);
    expect(() => new PcapWriter().addConversation({ client, server, events: [events[1]!, events[0]!] })).toThrow(/decrease/);
  });
});

describe.skipIf(!hasTshark && !process.env.CI)('PcapWriter: tshark reads the file cleanly (tshark installed)', () => {
  let dir: string;
  let file: string;
  let tls: RecordedSession;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'secchat-pcap-'));
    file = path.join(dir, 'two.pcap');
    tls = await recordTlsSession({ ciphers: 'AES128-GCM-SHA256' });
    const w = new PcapWriter();
    w.addConversation({ client, server, events });
    w.addConversation({ client: { ip: '10.0.0.3', port: 40001 }, server: { ip: '10.0.0.2', port: 4433 }, events: tls.events, closedBy: 'server' });
    writeFileSync(file, w.toBuffer());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('conv,tcp lists both conversations', () => {
    const out = tshark(['-r', file, '-q', '-z', 'conv,tcp']);
    expect(out).toMatch(/10\.0\.0\.1:50000\s+<->\s+10\.0\.0\.2:8443/);
    expect(out).toMatch(/10\.0\.0\.3:40001\s+<->\s+10\.0\.0\.2:4433/);
  });

  it('TCP analysis flags no problem (no lost segment, no ACKed unseen, no retransmission...)', () => {
    const flags = tshark(['-r', file, '-T', 'fields', '-e', 'tcp.analysis.flags']).split('\n').filter((l) => l.trim() !== '');
    expect(flags).toEqual([]);
  });

  it('with checksum validation on, every IPv4 and TCP checksum is good (status 1; 0 is bad, 2 unverified)', () => {
    const on = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE'];
    const statuses = tshark(['-r', file, ...on, '-T', 'fields', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status']).trim().split('\n');
    expect(statuses.length).toBeGreaterThan(20);
    expect(new Set(statuses)).toEqual(new Set(['1\t1']));
    expect(tshark(['-r', file, ...on, '-Y', 'tcp.checksum.status==0 || ip.checksum.status==0']).trim()).toBe('');
    // The same check does catch a bad checksum: corrupt one TCP checksum byte of the 4th frame.
    const bad = readPcapCorrupted(file);
    expect(tshark(['-r', bad, ...on, '-Y', 'tcp.checksum.status==0']).trim().split('\n').length).toBe(1);
  });

  it('follow,tcp,raw reassembles exactly the bytes written, both directions', () => {
    const a = followTcpRaw(file, 0);
    expect(a.fromNode0).toEqual(joined('c2s', events));
    expect(a.fromNode1).toEqual(joined('s2c', events));
    const b = followTcpRaw(file, 1);
    expect(b.fromNode0).toEqual(tls.clientToServer);
    expect(b.fromNode1).toEqual(tls.serverToClient);
  });

  function readPcapCorrupted(src: string): string {
    const bytes = readFileSync(src);
    // 24-byte file header, then 3 handshake packets of 16 + 58, 16 + 58, 16 + 54 bytes; the 4th
    // frame's TCP checksum sits at 14 (Ethernet) + 20 (IP) + 16 into its frame.
    const at = 24 + (16 + 58) * 2 + (16 + 54) + 16 + 14 + 20 + 16;
    bytes[at]! ^= 0xff;
    const out = path.join(dir, 'bad.pcap');
    writeFileSync(out, bytes);
    return out;
  }
});

describe.skipIf(!hasTshark && !process.env.CI)('interop: Wireshark decrypts what secchat decrypts (tshark installed)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'secchat-interop-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function capture(s: RecordedSession, name: string): { file: string; port: number } {
    const port = 4433;
    const w = new PcapWriter();
    w.addConversation({ client: { ip: '127.0.0.1', port: 40000 }, server: { ip: '127.0.0.1', port }, events: s.events });
    const file = path.join(dir, name);
    writeFileSync(file, w.toBuffer());
    return { file, port };
  }

  /** Decrypted application data of TLS stream 0, as tshark's follow,tls,ascii prints it. */
  const followTls = (file: string, port: number, opts: string[]) => tshark(['-r', file, '-d', `tcp.port==${port},tls`, ...opts, '-q', '-z', 'follow,tls,ascii,0']);

  it('TLS 1.2 RSA: with the stolen key (uat:rsa_keys), and with secchat\'s CLIENT_RANDOM key log line', async () => {
    const s = await recordTlsSession({ ciphers: 'AES256-GCM-SHA384' });
    const ours = decryptRecordedTls12({ clientToServer: s.clientToServer, serverToClient: s.serverToClient, serverPrivateKeyPem: rsaTestCert().keyPem });
    expect(ours.clientPlaintext.toString()).toBe(s.clientSecret);
    const { file, port } = capture(s, 'rsa.pcap');

    expect(followTls(file, port, [])).not.toContain(s.clientSecret); // no key, no plaintext
    const byKey = followTls(file, port, ['-o', `uat:rsa_keys:"${rsaTestCert().keyPath}",""`]);
    expect(byKey).toContain(s.clientSecret);
    expect(byKey).toContain(s.serverReply);

    const keylog = path.join(dir, 'secchat-keylog.txt');
    writeFileSync(keylog, `${ours.keyLogLine}\n`);
    const byLine = followTls(file, port, ['-o', `tls.keylog_file:${keylog}`]);
    expect(byLine).toContain(s.clientSecret);
    expect(byLine).toContain(s.serverReply);
  });

  it('TLS 1.3: the RSA key cannot, node\'s keylog lines can', async () => {
    const s = await recordTlsSession({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(decryptRecordedTls12({ clientToServer: s.clientToServer, serverToClient: s.serverToClient, serverPrivateKeyPem: rsaTestCert().keyPem }).outcome).toBe('ephemeral');
    const { file, port } = capture(s, 'tls13.pcap');
    expect(followTls(file, port, ['-o', `uat:rsa_keys:"${rsaTestCert().keyPath}",""`])).not.toContain(s.clientSecret);
    const keylog = path.join(dir, 'node-keylog.txt');
    writeFileSync(keylog, `${s.keylog.join('\n')}\n`);
    const out = followTls(file, port, ['-o', `tls.keylog_file:${keylog}`]);
    expect(out).toContain(s.clientSecret);
    expect(out).toContain(s.serverReply);
  });
});
