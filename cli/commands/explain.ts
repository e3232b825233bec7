/**
 * `secchat explain <capture.pcap>`: every TLS connection in a capture, each handshake message field
 * by field — offset, length, name, raw bytes, decoded value — like "The Illustrated TLS Connection",
 * from secchat's own parsers (core/tls/annotate.ts). Reads what `--capture` writes and any classic
 * pcap of TCP over IPv4 (core/pcap-reader.ts).
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, ProtocolError, UsageError } from '../../core/errors.ts';
import { arrivalTimeUs, readPcapFile, reassembleTcp, tcpSegmentsOf, type TcpConnection } from '../../core/pcap-reader.ts';
import type { AnnotatedField } from '../../core/tls/byte-cursor.ts';
import { explainTlsStream, type ExplainedItem } from '../../core/tls/annotate.ts';
import type { CliIo } from '../common.ts';

/** One connection as `--json` prints it; `fields[].hex` is the raw bytes. */
export interface ExplainedConnection {
  /** 1-based, in the order the connections were opened in the capture. */
  index: number;
  client: string;
  server: string;
  clientBytes: number;
  serverBytes: number;
  /** Both directions' items, in capture order. */
  items: Array<Omit<ExplainedItem, 'fields'> & { timeUs: number; fields: Array<Omit<AnnotatedField, 'raw'> & { hex: string }> }>;
}

/**
 * Explain every TCP connection of a capture that carried bytes.
 * @param maxItems per direction, see explainTlsStream
 */
export function explainConnections(connections: readonly TcpConnection[], maxItems = 200): ExplainedConnection[] {
  return connections
    .filter((c) => c.clientToServer.bytes.length + c.serverToClient.bytes.length > 0)
    .map((c, i) => {
      const tagged = [
        ...explainTlsStream(c.clientToServer.bytes, 'client', maxItems).map((it) => ({ it, timeUs: arrivalTimeUs(c.clientToServer, it.streamOffset) })),
        ...explainTlsStream(c.serverToClient.bytes, 'server', maxItems).map((it) => ({ it, timeUs: arrivalTimeUs(c.serverToClient, it.streamOffset) })),
      ];
      // Stable sort: within one direction stream order stays; across directions, capture time decides.
      tagged.sort((a, b) => a.timeUs - b.timeUs);
      return {
        index: i + 1,
        client: `${c.client.ip}:${c.client.port}`,
        server: `${c.server.ip}:${c.server.port}`,
        clientBytes: c.clientToServer.bytes.length,
        serverBytes: c.serverToClient.bytes.length,
        items: tagged.map(({ it, timeUs }) => ({
          ...it,
          timeUs,
          fields: it.fields.map(({ raw, ...f }) => ({ ...f, hex: raw.toString('hex') })),
        })),
      };
    });
}

const RAW_SHOWN_BYTES = 8;
const VALUE_SHOWN_CHARS = 100;

function short(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) + '…' : text;
}

/** The text rendering: one block per item, one line per field. */
export function renderExplained(connections: readonly ExplainedConnection[]): string {
  const out: string[] = [];
  for (const c of connections) {
    out.push(`connection ${c.index}: client ${c.client} → server ${c.server} (${c.clientBytes} bytes sent by the client, ${c.serverBytes} by the server)`);
    for (const it of c.items) {
      const arrow = it.from === 'client' ? 'client → server' : 'server → client';
      out.push('', `  ${arrow}  ${it.title}${it.kind === 'handshake' ? '' : `  [stream offset ${it.streamOffset}]`}`);
      if (it.fields.length === 0) continue;
      const where = it.kind === 'handshake' ? 'offset in message' : 'stream offset';
      out.push(`    ${where.padEnd(17)} ${'len'.padStart(5)}  ${'field'.padEnd(34)} ${'bytes'.padEnd(RAW_SHOWN_BYTES * 2 + 1)}  value`);
      for (const f of it.fields) {
        const hex = f.hex.length > RAW_SHOWN_BYTES * 2 ? f.hex.slice(0, RAW_SHOWN_BYTES * 2) + '…' : f.hex;
        const name = '  '.repeat(f.depth) + f.name;
        out.push(`    ${String(f.offset).padEnd(17)} ${String(f.length).padStart(5)}  ${name.padEnd(34)} ${hex.padEnd(RAW_SHOWN_BYTES * 2 + 1)}  ${short(f.value ?? '', VALUE_SHOWN_CHARS)}`.trimEnd());
      }
    }
    out.push('');
  }
  if (connections.length === 0) out.push('no TCP connection carrying data in this capture');
  return out.join('\n') + '\n';
}

/**
 * Read and explain a capture file.
 * @throws UsageError SECCHAT_ERR_USAGE (exit 2) when the file is missing, unreadable or not a classic pcap
 */
export function explainFile(file: string, maxItems = 200): ExplainedConnection[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(ERROR_CODES.USAGE, `cannot read capture ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return explainConnections(reassembleTcp(tcpSegmentsOf(readPcapFile(bytes))), maxItems);
  } catch (err) {
    if (err instanceof ProtocolError) throw new UsageError(ERROR_CODES.USAGE, `${file}: ${err.message}`);
    throw err;
  }
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

/** `secchat explain`. */
export function explainCommand(io: CliIo): Command {
  return new Command('explain')
    .description('print each TLS handshake message in a capture field by field: offset, length, name, bytes, decoded value')
    .argument('<capture>', 'a classic pcap file: written by `secchat attack|matrix --capture`, or by tcpdump/tshark (TCP over IPv4)')
    .option('--json', 'machine-readable output (every field with its full hex)')
    .option('--max-items <n>', 'per connection direction, stop after this many records/messages', positiveInt, 200)
    .addHelpText('after', '\nExamples:\n  secchat attack mitm-self-signed -p tls-verified --capture out/ && secchat explain out/*.pcap\n  sudo tcpdump -i lo -w hs.pcap port 8443   # then: secchat explain hs.pcap')
    .action((capture: string, o: { json?: boolean; maxItems: number }) => {
      const connections = explainFile(capture, o.maxItems);
      io.out(o.json ? JSON.stringify({ file: capture, connections }, null, 2) + '\n' : renderExplained(connections));
    });
}
