/**
 * core/pcap-reader.ts: the classic pcap variants and link types, and TCP reassembly with segments
 * out of order, retransmitted, overlapping, lost, and without a captured SYN.
 */
import { describe, expect, it } from 'vitest';
import { PcapWriter, ipv4Header, type ConversationEvent } from '../core/pcap.ts';
import { readPcapFile, reassembleTcp, tcpSegmentsOf, type TcpSegment } from '../core/pcap-reader.ts';

const client = { ip: '127.0.0.1', port: 50000 };
const server = { ip: '127.0.0.2', port: 8443 };
const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));
const events: ConversationEvent[] = [
  { dir: 'c2s', data: pattern(3000, 1), timeMs: 1000 },
  { dir: 's2c', data: pattern(5000, 2), timeMs: 1010 },
  { dir: 'c2s', data: Buffer.from('bye'), timeMs: 1020 },
];
function written(mss = 500): Buffer {
  const w = new PcapWriter();
  w.addConversation({ client, server, events, mssBytes: mss });
  return w.toBuffer();
}

/** Rewrite a little-endian µs pcap as big-endian with nanosecond timestamps. */
function toBigEndianNanos(le: Buffer): Buffer {
  const out = Buffer.from(le);
  out.writeUInt32BE(0xa1b23c4d, 0);
  out.writeUInt16BE(le.readUInt16LE(4), 4);
  out.writeUInt16BE(le.readUInt16LE(6), 6);
  for (const at of [8, 12, 16, 20]) out.writeUInt32BE(le.readUInt32LE(at), at);
  for (let off = 24; off < le.length; ) {
    const len = le.readUInt32LE(off + 8);
    out.writeUInt32BE(le.readUInt32LE(off), off);
    out.writeUInt32BE(le.readUInt32LE(off + 4) * 1000, off + 4);
    out.writeUInt32BE(len, off + 8);
    out.writeUInt32BE(le.readUInt32LE(off + 12), off + 12);
    off += 16 + len;
  }
  return out;
}

/** Re-frame an Ethernet pcap with another link layer. */
function relink(le: Buffer, linktype: number, head: (ip: Buffer) => Buffer): Buffer {
  const parts = [Buffer.from(le.subarray(0, 24))];
  parts[0]!.writeUInt32LE(linktype, 20);
  for (let off = 24; off < le.length; ) {
    const len = le.readUInt32LE(off + 8);
    const ip = le.subarray(off + 16 + 14, off + 16 + len);
    const frame = Buffer.concat([head(ip), ip]);
    const rec = Buffer.from(le.subarray(off, off + 16));
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
    off += 16 + len;
  }
  return Buffer.concat(parts);
}

const streamsOf = (file: Buffer) => reassembleTcp(tcpSegmentsOf(readPcapFile(file)));
const c2s = Buffer.concat([events[0]!.data, events[2]!.data]);
const s2c = events[1]!.data;

describe('readPcapFile and tcpSegmentsOf', () => {
  it('reads back what PcapWriter wrote: one connection, both streams, the client identified by its SYN', () => {
    const [conn, ...rest] = streamsOf(written());
    expect(rest).toHaveLength(0);
    expect(conn!.client).toEqual(client);
    expect(conn!.server).toEqual(server);
    expect(conn!.clientToServer.bytes.equals(c2s)).toBe(true);
    expect(conn!.serverToClient.bytes.equals(s2c)).toBe(true);
    expect(conn!.clientToServer.bytesAfterHole).toBe(0);
    expect(conn!.serverToClient.arrivals[0]!.timeUs).toBe(1_010_000);
  });

  it('big-endian files with nanosecond timestamps read the same', () => {
    const le = readPcapFile(written());
    const be = readPcapFile(toBigEndianNanos(written()));
    expect(be.packets.map((p) => p.timeUs)).toEqual(le.packets.map((p) => p.timeUs));
    expect(streamsOf(toBigEndianNanos(written()))[0]!.serverToClient.bytes.equals(s2c)).toBe(true);
  });

  it('raw IP, BSD loopback and Linux cooked (SLL, SLL2) link layers', () => {
    const sll = (ip: Buffer) => Buffer.concat([Buffer.alloc(14), Buffer.from([0x08, 0x00])]);
    const sll2 = (ip: Buffer) => Buffer.concat([Buffer.from([0x08, 0x00]), Buffer.alloc(18)]);
    const bsd = () => Buffer.from([2, 0, 0, 0]);
    for (const [type, head] of [[101, () => Buffer.alloc(0)], [0, bsd], [113, sll], [276, sll2]] as const) {
      const [conn] = streamsOf(relink(written(), type, head));
      expect(conn!.clientToServer.bytes.equals(c2s), `linktype ${type}`).toBe(true);
    }
  });

  it('skips frames that are not IPv4 TCP', () => {
    const pcap = readPcapFile(written());
    const udp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00]), ipv4Header('1.2.3.4', '5.6.7.8', 8, 1)]);
    udp[14 + 9] = 17; // protocol UDP (checksum no longer matters to the reader)
    const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    const segs = tcpSegmentsOf({ linktype: 1, packets: [{ timeUs: 0, data: udp }, { timeUs: 0, data: arp }, ...pcap.packets] });
    expect(segs).toHaveLength(pcap.packets.length);
  });

  it('errors name what is wrong', () => {
    expect(() => readPcapFile(Buffer.from('short'))).toThrow(/shorter than the 24-byte file header/);
    expect(() => readPcapFile(Buffer.alloc(24, 0x41))).toThrow(/magic number 0x41414141/);
    const odd = Buffer.from(written());
    odd.writeUInt32LE(147, 20);
    expect(() => readPcapFile(odd)).toThrow(/link type 147 is not supported/);
  });
});

describe('reassembleTcp', () => {
  const seg = (from: 'c' | 's', seq: number, data: string, flags = 0x18, timeUs = seq): TcpSegment => ({
    timeUs,
    src: from === 'c' ? client : server,
    dst: from === 'c' ? server : client,
    seq: seq >>> 0,
    ack: 0,
    flags,
    payload: Buffer.from(data),
  });

  it('orders out-of-order segments, keeps retransmitted and overlapping bytes once, wraps sequence numbers', () => {
    const isn = 0xfffffff0; // data crosses 2^32
    const segs = [seg('c', isn, '', 0x02, 0), seg('s', 100, '', 0x12, 1), seg('c', isn + 1 + 10, 'KLMNOPQRST', 0x18, 3), seg('c', isn + 1, 'ABCDEFGHIJ', 0x18, 2), seg('c', isn + 1 + 5, 'FGHIJKLM', 0x18, 4), seg('c', isn + 1 + 10, 'KLMNOPQRST', 0x18, 5), seg('s', 101, 'ok', 0x18, 6)];
    const [conn] = reassembleTcp(segs);
    expect(conn!.clientToServer.bytes.toString()).toBe('ABCDEFGHIJKLMNOPQRST');
    expect(conn!.serverToClient.bytes.toString()).toBe('ok');
    // Overlaps resolve in sequence order: KLM comes from the segment starting at 5 (captured at 4).
    expect(conn!.clientToServer.arrivals).toEqual([{ offset: 0, timeUs: 2 }, { offset: 10, timeUs: 4 }, { offset: 13, timeUs: 3 }]);
  });

  it('stops at a hole and counts the bytes beyond it', () => {
    const [conn] = reassembleTcp([seg('c', 1000, '', 0x02), seg('c', 1001, 'abc'), seg('c', 1010, 'xyz')]);
    expect(conn!.clientToServer.bytes.toString()).toBe('abc');
    expect(conn!.clientToServer.bytesAfterHole).toBe(3);
  });

  it('without a SYN, starts at the lowest sequence number; a SYN-ACK first makes its receiver the client', () => {
    const [a] = reassembleTcp([seg('c', 505, 'world'), seg('c', 500, 'hello')]);
    expect(a!.clientToServer.bytes.toString()).toBe('helloworld');
    const [b] = reassembleTcp([seg('s', 7000, '', 0x12), seg('s', 7001, 'hi')]);
    expect(b!.client).toEqual(client);
    expect(b!.serverToClient.bytes.toString()).toBe('hi');
  });

  it('a new SYN on a used 4-tuple is a new connection', () => {
    const conns = reassembleTcp([seg('c', 10, '', 0x02), seg('c', 11, 'one'), seg('c', 90, '', 0x02), seg('c', 91, 'two')]);
    expect(conns.map((c) => c.clientToServer.bytes.toString())).toEqual(['one', 'two']);
  });
});
