/**
 * Reading captures back: the classic libpcap file format
 * (https://www.tcpdump.org/manual/pcap-savefile.html; both byte orders, microsecond and nanosecond
 * timestamps), link layers Ethernet II (LINKTYPE_ETHERNET 1), BSD loopback (LINKTYPE_NULL 0),
 * raw IP (LINKTYPE_RAW 101) and Linux cooked capture v1/v2 (LINKTYPE_LINUX_SLL 113 / SLL2 276),
 * IPv4 (RFC 791) and TCP (RFC 9293) headers — and TCP reassembly: each connection's two byte
 * streams in sequence-number order, retransmitted bytes kept once.
 *
 * Reads what `core/pcap.ts` writes and what `tcpdump -i lo -w f.pcap` writes. pcapng files, IPv6
 * and IP fragments are not handled (convert pcapng with `editcap -F pcap in.pcapng out.pcap`).
 * Pure: bytes in, streams out.
 */
import { ProtocolError } from './errors.ts';
import type { Endpoint } from './pcap.ts';

/** Link-layer header types this reader decodes (tcpdump.org "LINK-LAYER HEADER TYPES"). */
export const READABLE_LINKTYPES = { null: 0, ethernet: 1, raw: 101, linux_sll: 113, linux_sll2: 276 } as const;

/** One captured packet: its time and the bytes as captured (maybe truncated to the snap length). */
export interface CapturedPacket {
  /** Capture time, µs since the epoch. */
  timeUs: number;
  data: Buffer;
}

/** A whole capture file. */
export interface PcapFile {
  linktype: number;
  packets: CapturedPacket[];
}

const PCAPNG_MAGIC = 0x0a0d0d0a;

/**
 * Parse a classic libpcap file.
 * @throws ProtocolError (field `pcap.magic`, `pcap.linktype` or `pcap.record`) when the bytes are not
 *   a classic pcap (a pcapng file is named as such), use a link type not in {@link READABLE_LINKTYPES},
 *   or a packet record runs past the end of the file.
 */
export function readPcapFile(file: Buffer): PcapFile {
  if (file.length < 24) throw new ProtocolError(`not a pcap file: ${file.length} bytes is shorter than the 24-byte file header`, { field: 'pcap.magic' });
  const magicLe = file.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) [le, nanos] = [true, magicLe === 0xa1b23c4d];
  else if (file.readUInt32BE(0) === 0xa1b2c3d4 || file.readUInt32BE(0) === 0xa1b23c4d) [le, nanos] = [false, file.readUInt32BE(0) === 0xa1b23c4d];
  else if (magicLe === PCAPNG_MAGIC) {
    throw new ProtocolError('this is a pcapng file; only classic pcap is read: convert it with `editcap -F pcap in.pcapng out.pcap`', { field: 'pcap.magic' });
  } else {
    throw new ProtocolError(`not a pcap file: magic number 0x${file.readUInt32BE(0).toString(16).padStart(8, '0')} is not 0xa1b2c3d4 or 0xa1b23c4d in either byte order`, { field: 'pcap.magic' });
  }
  const u32 = (off: number) => (le ? file.readUInt32LE(off) : file.readUInt32BE(off));
  const linktype = u32(20) & 0x0fffffff; // the top bits carry FCS information (pcap-savefile)
  if (!(Object.values(READABLE_LINKTYPES) as number[]).includes(linktype)) {
    throw new ProtocolError(`pcap link type ${linktype} is not supported; readable: ${Object.entries(READABLE_LINKTYPES).map(([k, v]) => `${k} (${v})`).join(', ')}`, {
      field: 'pcap.linktype',
      value: linktype,
    });
  }
  const packets: CapturedPacket[] = [];
  for (let off = 24; off < file.length; ) {
    if (off + 16 > file.length) throw new ProtocolError(`pcap record header at byte ${off} is truncated`, { field: 'pcap.record', offset: off });
    const fraction = u32(off + 4);
    const timeUs = u32(off) * 1e6 + (nanos ? Math.floor(fraction / 1000) : fraction);
    const caplen = u32(off + 8);
    if (off + 16 + caplen > file.length) throw new ProtocolError(`pcap record at byte ${off} claims ${caplen} bytes past the end of the file`, { field: 'pcap.record', offset: off });
    packets.push({ timeUs, data: file.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return { linktype, packets };
}

/** One TCP segment over IPv4. */
export interface TcpSegment {
  timeUs: number;
  src: Endpoint;
  dst: Endpoint;
  seq: number;
  ack: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  flags: number;
  payload: Buffer;
}

const ETHERTYPE_IPV4 = 0x0800;

/** The IPv4 packet inside one frame, or null for anything else (ARP, IPv6, truncated frames). */
function ipv4Of(linktype: number, frame: Buffer): Buffer | null {
  let ip: Buffer;
  switch (linktype) {
    case READABLE_LINKTYPES.ethernet: {
      if (frame.length < 14) return null;
      let type = frame.readUInt16BE(12);
      let at = 14;
      if (type === 0x8100 && frame.length >= 18) [type, at] = [frame.readUInt16BE(16), 18]; // one 802.1Q tag
      if (type !== ETHERTYPE_IPV4) return null;
      ip = frame.subarray(at);
      break;
    }
    case READABLE_LINKTYPES.null: {
      // 4-byte address family in the capturing host's byte order; AF_INET is 2 everywhere.
      if (frame.length < 4 || (frame.readUInt32LE(0) !== 2 && frame.readUInt32BE(0) !== 2)) return null;
      ip = frame.subarray(4);
      break;
    }
    case READABLE_LINKTYPES.raw:
      ip = frame;
      break;
    case READABLE_LINKTYPES.linux_sll:
      if (frame.length < 16 || frame.readUInt16BE(14) !== ETHERTYPE_IPV4) return null;
      ip = frame.subarray(16);
      break;
    case READABLE_LINKTYPES.linux_sll2:
      if (frame.length < 20 || frame.readUInt16BE(0) !== ETHERTYPE_IPV4) return null;
      ip = frame.subarray(20);
      break;
    default:
      return null;
  }
  return ip.length >= 20 && ip[0]! >> 4 === 4 ? ip : null;
}

/**
 * The TCP segments over IPv4 in a capture, in file order. Frames of other protocols, IP fragments
 * and frames too short for their headers are skipped, not errors: a loopback capture holds more
 * than one conversation.
 */
export function tcpSegmentsOf(pcap: PcapFile): TcpSegment[] {
  const out: TcpSegment[] = [];
  for (const p of pcap.packets) {
    const ip = ipv4Of(pcap.linktype, p.data);
    if (!ip || ip[9] !== 6) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    const fragmented = (ip.readUInt16BE(6) & 0x3fff) !== 0; // MF flag or a fragment offset
    const total = Math.min(ip.readUInt16BE(2), ip.length);
    if (fragmented || ihl < 20 || total < ihl + 20) continue;
    const tcp = ip.subarray(ihl, total);
    const dataOffset = (tcp[12]! >> 4) * 4;
    if (dataOffset < 20 || dataOffset > tcp.length) continue;
    out.push({
      timeUs: p.timeUs,
      src: { ip: [...ip.subarray(12, 16)].join('.'), port: tcp.readUInt16BE(0) },
      dst: { ip: [...ip.subarray(16, 20)].join('.'), port: tcp.readUInt16BE(2) },
      seq: tcp.readUInt32BE(4),
      ack: tcp.readUInt32BE(8),
      flags: tcp[13]!,
      payload: tcp.subarray(dataOffset),
    });
  }
  return out;
}

/** One direction of a TCP connection, reassembled. */
export interface ReassembledStream {
  /** The bytes in order, up to the first hole. */
  bytes: Buffer;
  /** When each run of `bytes` was first captured: `bytes[offset..]` arrived at `timeUs`. */
  arrivals: Array<{ offset: number; timeUs: number }>;
  /** Bytes captured beyond a hole (a segment lost from the capture); 0 for a whole stream. */
  bytesAfterHole: number;
}

/** One TCP connection: who opened it, and both byte streams. */
export interface TcpConnection {
  /** The side that sent the SYN (or, with no SYN captured, the first segment). */
  client: Endpoint;
  server: Endpoint;
  /** Time of the connection's first segment, µs since the epoch. */
  startUs: number;
  clientToServer: ReassembledStream;
  serverToClient: ReassembledStream;
}

const SYN = 0x02;
const ACK = 0x10;

interface Half {
  isn: number | null;
  segments: Array<{ seq: number; timeUs: number; payload: Buffer }>;
}

/**
 * Group segments into connections (by 4-tuple; a fresh SYN on a used 4-tuple starts a new one) and
 * reassemble each direction from its initial sequence number (SYN + 1; with no SYN, the lowest
 * sequence number seen), modulo 2^32. Where segments overlap (retransmissions), the bytes of the
 * segment that starts earlier in sequence space are kept; for equal starts, the one captured first.
 * @returns connections in the order their first segment was captured
 */
export function reassembleTcp(segments: readonly TcpSegment[]): TcpConnection[] {
  const key = (a: Endpoint, b: Endpoint) => `${a.ip}:${a.port}>${b.ip}:${b.port}`;
  const open = new Map<string, { conn: { client: Endpoint; server: Endpoint; startUs: number }; c2s: Half; s2c: Half }>();
  const all: Array<{ conn: { client: Endpoint; server: Endpoint; startUs: number }; c2s: Half; s2c: Half }> = [];
  for (const s of segments) {
    const fwd = key(s.src, s.dst);
    const rev = key(s.dst, s.src);
    let entry = open.get(fwd) ?? open.get(rev);
    const isOpeningSyn = (s.flags & SYN) !== 0 && (s.flags & ACK) === 0;
    if (entry && isOpeningSyn && (entry.c2s.segments.length > 0 || entry.s2c.segments.length > 0)) entry = undefined; // port reused
    if (!entry) {
      const synAck = (s.flags & SYN) !== 0 && (s.flags & ACK) !== 0; // capture began mid-handshake
      const [client, server] = synAck ? [s.dst, s.src] : [s.src, s.dst];
      entry = { conn: { client, server, startUs: s.timeUs }, c2s: { isn: null, segments: [] }, s2c: { isn: null, segments: [] } };
      open.set(key(client, server), entry);
      open.delete(key(server, client));
      all.push(entry);
    }
    const fromClient = s.src.ip === entry.conn.client.ip && s.src.port === entry.conn.client.port;
    const half = fromClient ? entry.c2s : entry.s2c;
    if (s.flags & SYN) half.isn = (s.seq + 1) >>> 0;
    if (s.payload.length > 0) half.segments.push({ seq: (s.flags & SYN ? s.seq + 1 : s.seq) >>> 0, timeUs: s.timeUs, payload: s.payload });
  }
  return all.map(({ conn, c2s, s2c }) => ({ ...conn, clientToServer: reassembleHalf(c2s), serverToClient: reassembleHalf(s2c) }));
}

function reassembleHalf(half: Half): ReassembledStream {
  if (half.segments.length === 0) return { bytes: Buffer.alloc(0), arrivals: [], bytesAfterHole: 0 };
  // Without a SYN, start at the segment whose sequence number is lowest relative to the first one seen.
  const first = half.segments[0]!.seq;
  const isn = half.isn ?? half.segments.reduce((lo, s) => (((s.seq - first) | 0) < ((lo - first) | 0) ? s.seq : lo), first);
  const ordered = half.segments
    .map((s, i) => ({ ...s, rel: (s.seq - isn) >>> 0, i }))
    .filter((s) => s.rel < 0x80000000) // before the ISN: a stray from an earlier connection
    .sort((a, b) => a.rel - b.rel || a.i - b.i);
  const parts: Buffer[] = [];
  const arrivals: ReassembledStream['arrivals'] = [];
  let next = 0;
  let bytesAfterHole = 0;
  for (const s of ordered) {
    const end = s.rel + s.payload.length;
    if (s.rel > next) {
      bytesAfterHole += end - Math.max(s.rel, next);
      continue;
    }
    if (end <= next || bytesAfterHole > 0) continue;
    arrivals.push({ offset: next, timeUs: s.timeUs });
    parts.push(s.payload.subarray(next - s.rel));
    next = end;
  }
  return { bytes: Buffer.concat(parts), arrivals, bytesAfterHole };
}

/** When the byte at `offset` of a reassembled stream was captured, µs since the epoch. */
export function arrivalTimeUs(stream: ReassembledStream, offset: number): number {
  let t = stream.arrivals[0]?.timeUs ?? 0;
  for (const a of stream.arrivals) {
    if (a.offset > offset) break;
    t = a.timeUs;
  }
  return t;
}
