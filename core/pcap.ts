/**
 * A small pcap writer: turns recorded TCP conversations (who sent which bytes when) into a capture
 * file that Wireshark and tshark open and reassemble — so a student can look at what the
 * eavesdropper of the retro-decrypt attack kept, or decrypt it with Wireshark's own TLS dissector.
 *
 * Implements: the classic libpcap file format (microsecond timestamps, LINKTYPE_ETHERNET = 1;
 * https://www.tcpdump.org/manual/pcap-savefile.html), Ethernet II framing with made-up locally
 * administered MACs, IPv4 (RFC 791) with its header checksum, TCP (RFC 9293) with a three-way
 * handshake, MSS-sized segments, cumulative ACKs, a FIN teardown, and the pseudo-header checksum
 * (RFC 9293 §3.1, the Internet checksum of RFC 1071).
 *
 * No npm package fits: `pcap` captures live through libpcap (native) and `pcap-generator` is a
 * single unmaintained release with no TCP builder. This file is pure: bytes in, bytes out.
 */
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';

/** LINKTYPE_ETHERNET: every packet starts with a 14-byte Ethernet II header. */
export const LINKTYPE_ETHERNET = 1;
/** Snap length written in the file header; no packet here comes near it. */
export const PCAP_SNAPLEN_BYTES = 262144;
/** Default payload bytes per TCP segment: Ethernet MTU 1500 − 20 (IPv4) − 20 (TCP). */
export const DEFAULT_MSS_BYTES = 1460;
/** Window advertised in every segment, bytes (no window scaling option is sent). */
export const TCP_WINDOW_BYTES = 65535;
/** The receiver ACKs after this many data segments, like delayed ACK, so the window never fills. */
const ACK_EVERY_SEGMENTS = 2;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

export interface Endpoint {
  /** Dotted-quad IPv4 address. */
  ip: string;
  /** TCP port, 1–65535. */
  port: number;
}

export interface ConversationEvent {
  /** c2s: client to server; s2c: server to client. */
  dir: 'c2s' | 's2c';
  data: Buffer;
  /** When the bytes were sent, ms since the epoch (fractions allowed). */
  timeMs: number;
}

export interface Conversation {
  client: Endpoint;
  server: Endpoint;
  /** In the order they happened; times must not decrease. Empty data is skipped. */
  events: ConversationEvent[];
  /** Initial sequence numbers; default: derived from the 4-tuple, so output is reproducible. */
  isn?: { client: number; server: number };
  /** Payload bytes per segment, default {@link DEFAULT_MSS_BYTES}. */
  mssBytes?: number;
  /** Time of the SYN, ms since the epoch; default 1 ms before the first event (or 0 with none). */
  startTimeMs?: number;
  /** Who sends the first FIN; default 'client'. */
  closedBy?: 'client' | 'server';
}

/**
 * The Internet checksum (RFC 1071): one's complement of the one's-complement sum of 16-bit words,
 * an odd trailing byte padded with zero. Returns 0–0xffff.
 */
export function internetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  let odd: number | null = null;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      if (odd === null) odd = part[i]!;
      else {
        sum += (odd << 8) | part[i]!;
        odd = null;
      }
    }
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (odd !== null) sum += odd << 8;
  while (sum >>> 16) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipBytes(ip: string): Buffer {
  if (!isIPv4(ip)) throw new RangeError(`pcap: ${JSON.stringify(ip)} is not an IPv4 address`);
  return Buffer.from(ip.split('.').map(Number));
}

/**
 * TCP checksum over the IPv4 pseudo-header (src, dst, zero, protocol 6, TCP length) and the
 * segment with its checksum field zeroed (RFC 9293 §3.1).
 */
export function tcpChecksum(srcIp: string, dstIp: string, segment: Buffer): number {
  const pseudo = Buffer.alloc(12);
  ipBytes(srcIp).copy(pseudo, 0);
  ipBytes(dstIp).copy(pseudo, 4);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(segment.length, 10);
  const zeroed = Buffer.from(segment);
  zeroed.writeUInt16BE(0, 16);
  return internetChecksum(pseudo, zeroed);
}

/** A 20-byte IPv4 header (no options) with its checksum (RFC 791 §3.1). */
export function ipv4Header(srcIp: string, dstIp: string, payloadBytes: number, identification: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45; // version 4, IHL 5 words
  h.writeUInt16BE(20 + payloadBytes, 2);
  h.writeUInt16BE(identification & 0xffff, 4);
  h.writeUInt16BE(0x4000, 6); // don't fragment
  h[8] = 64; // TTL
  h[9] = 6; // TCP
  ipBytes(srcIp).copy(h, 12);
  ipBytes(dstIp).copy(h, 16);
  h.writeUInt16BE(internetChecksum(h), 10);
  return h;
}

/** Locally administered unicast MAC for an IPv4 address: 02:00 + the four address bytes. */
function macFor(ip: string): Buffer {
  return Buffer.concat([Buffer.from([0x02, 0x00]), ipBytes(ip)]);
}

interface Packet {
  timeUs: number;
  frame: Buffer;
}

/** One side of a TCP connection: what it has sent and what it has seen. */
interface Side {
  ep: Endpoint;
  seq: number; // next sequence number to send (mod 2^32)
  ipId: number;
}

/**
 * Builds a pcap file from TCP conversations.
 *
 * ```ts
 * const w = new PcapWriter();
 * w.addConversation({ client: { ip: '10.0.0.1', port: 50000 }, server: { ip: '10.0.0.2', port: 443 }, events });
 * writeFileSync('lab.pcap', w.toBuffer());
 * ```
 * Packets of all conversations are ordered by time in the file.
 */
export class PcapWriter {
  private packets: Packet[] = [];

  /** Number of packets added so far. */
  get packetCount(): number {
    return this.packets.length;
  }

  /**
   * Add a whole conversation: SYN, SYN-ACK, ACK; the events as segments of at most `mssBytes`,
   * each burst ACKed by the receiver; then FIN/ACK, FIN/ACK, ACK.
   * @throws RangeError for a bad address, port, MSS, or times that go backwards.
   */
  addConversation(conv: Conversation): void {
    const mss = conv.mssBytes ?? DEFAULT_MSS_BYTES;
    if (!Number.isInteger(mss) || mss < 1 || mss > 65495) throw new RangeError(`pcap: mssBytes ${mss} must be an integer in 1..65495`);
    for (const ep of [conv.client, conv.server]) {
      ipBytes(ep.ip);
      if (!Number.isInteger(ep.port) || ep.port < 1 || ep.port > 65535) throw new RangeError(`pcap: port ${ep.port} must be in 1..65535`);
    }
    const isn = conv.isn ?? defaultIsn(conv.client, conv.server);
    const c: Side = { ep: conv.client, seq: isn.client >>> 0, ipId: 1 };
    const s: Side = { ep: conv.server, seq: isn.server >>> 0, ipId: 1 };
    const firstMs = conv.events[0]?.timeMs;
    let clockUs = Math.round((conv.startTimeMs ?? (firstMs !== undefined ? firstMs - 1 : 0)) * 1000);
    // Each packet is at least 1 µs after the previous one so order survives sorting by time.
    const at = (ms?: number) => (clockUs = Math.max(clockUs + 1, ms === undefined ? 0 : Math.round(ms * 1000)));
    const emit = (from: Side, to: Side, flags: number, payload: Buffer, timeUs: number, options = Buffer.alloc(0)) => {
      this.packets.push({ timeUs, frame: this.frame(from, to, flags, payload, options) });
      from.seq = (from.seq + payload.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0;
    };

    // Three-way handshake; SYNs carry the MSS option (kind 2, length 4) so analysers know it.
    const mssOpt = Buffer.from([2, 4, mss >> 8, mss & 0xff]);
    clockUs -= 1;
    emit(c, s, TCP_SYN, Buffer.alloc(0), at(), mssOpt);
    emit(s, c, TCP_SYN | TCP_ACK, Buffer.alloc(0), at(), mssOpt);
    emit(c, s, TCP_ACK, Buffer.alloc(0), at());

    let lastMs = -Infinity;
    for (const ev of conv.events) {
      if (ev.timeMs < lastMs) throw new RangeError(`pcap: event times must not decrease (${ev.timeMs} after ${lastMs})`);
      lastMs = ev.timeMs;
      if (ev.data.length === 0) continue;
      const [from, to] = ev.dir === 'c2s' ? [c, s] : [s, c];
      let sinceAck = 0;
      for (let off = 0; off < ev.data.length; off += mss) {
        const seg = ev.data.subarray(off, off + mss);
        const last = off + mss >= ev.data.length;
        emit(from, to, TCP_ACK | (last ? TCP_PSH : 0), seg, at(ev.timeMs));
        if (++sinceAck === ACK_EVERY_SEGMENTS || last) {
          emit(to, from, TCP_ACK, Buffer.alloc(0), at());
          sinceAck = 0;
        }
      }
    }

    const [first, second] = conv.closedBy === 'server' ? [s, c] : [c, s];
    emit(first, second, TCP_FIN | TCP_ACK, Buffer.alloc(0), at(Number.isFinite(lastMs) ? lastMs : undefined));
    emit(second, first, TCP_FIN | TCP_ACK, Buffer.alloc(0), at());
    emit(first, second, TCP_ACK, Buffer.alloc(0), at());
  }

  /** The whole file: 24-byte global header, then each packet's 16-byte header and frame. */
  toBuffer(): Buffer {
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0); // microsecond timestamps, written little-endian
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeInt32LE(0, 8); // thiszone: UTC
    head.writeUInt32LE(0, 12); // sigfigs
    head.writeUInt32LE(PCAP_SNAPLEN_BYTES, 16);
    head.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    const parts: Buffer[] = [head];
    const ordered = this.packets.map((p, i) => ({ p, i })).sort((a, b) => a.p.timeUs - b.p.timeUs || a.i - b.i);
    for (const { p } of ordered) {
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(Math.floor(p.timeUs / 1e6), 0);
      rec.writeUInt32LE(p.timeUs % 1e6, 4);
      rec.writeUInt32LE(p.frame.length, 8);
      rec.writeUInt32LE(p.frame.length, 12);
      parts.push(rec, p.frame);
    }
    return Buffer.concat(parts);
  }

  /** Ethernet + IPv4 + TCP for one segment; `to.seq` is what `from` acknowledges. */
  private frame(from: Side, to: Side, flags: number, payload: Buffer, options: Buffer): Buffer {
    const tcp = Buffer.alloc(20 + options.length);
    tcp.writeUInt16BE(from.ep.port, 0);
    tcp.writeUInt16BE(to.ep.port, 2);
    tcp.writeUInt32BE(from.seq, 4);
    tcp.writeUInt32BE(flags & TCP_ACK ? to.seq : 0, 8);
    tcp[12] = ((20 + options.length) / 4) << 4;
    tcp[13] = flags;
    tcp.writeUInt16BE(TCP_WINDOW_BYTES, 14);
    options.copy(tcp, 20);
    const segment = Buffer.concat([tcp, payload]);
    segment.writeUInt16BE(tcpChecksum(from.ep.ip, to.ep.ip, segment), 16);
    const ip = ipv4Header(from.ep.ip, to.ep.ip, segment.length, from.ipId++);
    const eth = Buffer.concat([macFor(to.ep.ip), macFor(from.ep.ip), Buffer.from([0x08, 0x00])]);
    return Buffer.concat([eth, ip, segment]);
  }
}

/** Reproducible initial sequence numbers from the 4-tuple (real stacks randomise; labs want repeatable files). */
function defaultIsn(client: Endpoint, server: Endpoint): { client: number; server: number } {
  const d = createHash('sha256').update(`${client.ip}:${client.port}>${server.ip}:${server.port}`).digest();
  return { client: d.readUInt32BE(0), server: d.readUInt32BE(4) };
}
