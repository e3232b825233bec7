/**
 * Read back a classic little-endian microsecond pcap of Ethernet/IPv4/TCP frames, as written by
 * core/pcap.ts — a deliberately separate, minimal decoder so tests do not check the writer with itself.
 */
export interface DecodedPacket {
  timeUs: number;
  srcIp: string;
  dstIp: string;
  ipHeader: Buffer;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The whole TCP segment (header + payload). */
  segment: Buffer;
  payload: Buffer;
}

export function readPcap(file: Buffer): { linktype: number; packets: DecodedPacket[] } {
  if (file.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('not a little-endian microsecond pcap');
  const linktype = file.readUInt32LE(20);
  const packets: DecodedPacket[] = [];
  for (let off = 24; off < file.length; ) {
    const timeUs = file.readUInt32LE(off) * 1e6 + file.readUInt32LE(off + 4);
    const len = file.readUInt32LE(off + 8);
    const frame = file.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    if (frame.readUInt16BE(12) !== 0x0800) throw new Error('not IPv4');
    const ip = frame.subarray(14);
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    const segment = ip.subarray(ihl, total);
    const dataOffset = (segment[12]! >> 4) * 4;
    packets.push({
      timeUs,
      srcIp: [...ip.subarray(12, 16)].join('.'),
      dstIp: [...ip.subarray(16, 20)].join('.'),
      ipHeader: ip.subarray(0, ihl),
      srcPort: segment.readUInt16BE(0),
      dstPort: segment.readUInt16BE(2),
      seq: segment.readUInt32BE(4),
      ack: segment.readUInt32BE(8),
      flags: segment[13]!,
      segment,
      payload: segment.subarray(dataOffset),
    });
  }
  return { linktype, packets };
}
