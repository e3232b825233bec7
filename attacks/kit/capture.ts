/**
 * Captures: what the proxy engine recorded, as a pcap file Wireshark and tshark open.
 *
 * Each proxied connection becomes one TCP conversation between the victim's address and port
 * (`clientPeer`) and the real server (`upstream`) — as a network tap on the victim's path would
 * have seen it, with the proxy itself invisible. Only the `client-wire` layer is used: the bytes
 * on the victim's own TCP connection (in terminate mode, the attacker's TLS towards the victim).
 * Segmenting, sequence numbers and checksums are core/pcap.ts's job; this file only maps records.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import path from 'node:path';
import { PcapWriter, type ConversationEvent, type Endpoint } from '../../core/pcap.ts';
import type { ProxyEngine } from '../proxy.ts';

/** File names of the artifacts every run keeps in its artifact folder (see {@link keepRunArtifacts}). */
export const RUN_ARTIFACT_FILES = {
  /** the recorded connections, pcap */
  capture: 'capture.pcap',
  /** NSS key log lines of every TLS session of the run, from the endpoints themselves */
  sessionsKeylog: 'sessions.keylog',
} as const;

/** Key log files hold session secrets: owner read/write only. */
export const KEYLOG_FILE_MODE = 0o600;

/** Result of {@link captureOf}. */
export interface CaptureResult {
  /** the whole pcap file */
  pcap: Buffer;
  /** TCP conversations written */
  conversations: number;
  /** connections left out, each with why (e.g. an IPv6 peer: the writer is IPv4 only) */
  skipped: string[];
}

/**
 * Parses `address:port` as node prints it (`127.0.0.1:5000`, `::ffff:127.0.0.1:5000`).
 * @returns the IPv4 endpoint, or null when the address is not IPv4 (or missing)
 */
export function ipv4Endpoint(hostPort: string): Endpoint | null {
  const i = hostPort.lastIndexOf(':');
  if (i < 0) return null;
  const ip = hostPort.slice(0, i).replace(/^::ffff:/i, '');
  const port = Number(hostPort.slice(i + 1));
  if (!isIPv4(ip) || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { ip, port };
}

/**
 * Builds one pcap of every connection the given proxies carried, packets ordered by time.
 * Timestamps are the proxy's wall clock (`startedAtEpochMs` + each chunk's `t`).
 * @param engines proxies of one run, in any order
 */
export function captureOf(engines: readonly ProxyEngine[]): CaptureResult {
  const w = new PcapWriter();
  const skipped: string[] = [];
  let conversations = 0;
  for (const eng of engines) {
    const server = ipv4Endpoint(`${eng.upstream.host}:${eng.upstream.port}`);
    for (const rec of eng.connections) {
      const client = ipv4Endpoint(rec.clientPeer);
      if (!client || !server) {
        skipped.push(`connection ${rec.id} (${rec.clientPeer} → ${eng.upstream.host}:${eng.upstream.port}): not IPv4`);
        continue;
      }
      const events: ConversationEvent[] = eng.traffic
        .filter((c) => c.conn === rec.id && c.layer === 'client-wire')
        .map((c) => ({ dir: c.dir, data: c.data, timeMs: eng.startedAtEpochMs + c.t }));
      w.addConversation({ client, server, events, startTimeMs: eng.startedAtEpochMs + rec.startedAtMs });
      conversations++;
    }
  }
  return { pcap: w.toBuffer(), conversations, skipped };
}

/**
 * Writes a key log file with mode 0600 (it holds session secrets), replacing any earlier content.
 * @param lines NSS key log lines, with or without their trailing newline
 */
export function writeKeylogFile(file: string, lines: ReadonlyArray<string | Buffer>): void {
  const text = lines.map((l) => l.toString().replace(/\n?$/, '\n')).join('');
  writeFileSync(file, text, { mode: KEYLOG_FILE_MODE });
  chmodSync(file, KEYLOG_FILE_MODE); // an existing file keeps its old mode otherwise
}

/**
 * Keeps what every run can keep, in `dir` (created if missing): the capture of the proxies the
 * attack used, and the endpoints' key log lines (so Wireshark opens every session, TLS 1.3
 * included — secrets the attacker of retro-decrypt never has).
 * @returns artifact name → file path (`dir` joined with the file name); empty when there is nothing
 * @throws the file system's error when `dir` cannot be written
 */
export function keepRunArtifacts(dir: string, engines: readonly ProxyEngine[], keylogLines: readonly Buffer[]): Record<string, string> {
  const kept: Record<string, string> = {};
  if (engines.length === 0 && keylogLines.length === 0) return kept;
  mkdirSync(dir, { recursive: true });
  if (engines.length > 0) {
    const file = path.join(dir, RUN_ARTIFACT_FILES.capture);
    writeFileSync(file, captureOf(engines).pcap);
    kept.capture = file;
  }
  if (keylogLines.length > 0) {
    const file = path.join(dir, RUN_ARTIFACT_FILES.sessionsKeylog);
    writeKeylogFile(file, keylogLines);
    kept['sessions-keylog'] = file;
  }
  return kept;
}
