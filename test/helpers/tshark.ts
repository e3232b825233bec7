/**
 * Run tshark (Wireshark's CLI) on a capture, if it is installed: tests that need it skip with a
 * message otherwise. Install: `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y tshark`.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** Whether `tshark` runs on this machine. */
export const hasTshark: boolean = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

/** tshark's stdout for `args` (stderr, e.g. the "running as root" warning, is dropped). */
export function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
}

/**
 * The bytes of each direction of TCP stream `index`, from `-z follow,tcp,raw,N`: tshark prints
 * node 0's data unindented and node 1's after a tab, as hex lines.
 */
export function followTcpRaw(pcapPath: string, index: number): { fromNode0: Buffer; fromNode1: Buffer } {
  return parseFollowRaw(tshark(['-r', pcapPath, '-q', '-z', `follow,tcp,raw,${index}`]));
}

/**
 * The decrypted application data of each direction of TLS stream `index` (`-z follow,tls,raw,N`),
 * node 0 being the client; `args` carry what decrypts it (`-d`, `-o tls.keylog_file:...`).
 */
export function followTlsRaw(pcapPath: string, index: number, args: string[]): { fromNode0: Buffer; fromNode1: Buffer } {
  return parseFollowRaw(tshark(['-r', pcapPath, ...args, '-q', '-z', `follow,tls,raw,${index}`]));
}

function parseFollowRaw(out: string): { fromNode0: Buffer; fromNode1: Buffer } {
  const body = out.split('='.repeat(67))[1] ?? '';
  const a: Buffer[] = [];
  const b: Buffer[] = [];
  for (const line of body.split('\n')) {
    if (/^\t[0-9a-f]+$/.test(line)) b.push(Buffer.from(line.slice(1), 'hex'));
    else if (/^[0-9a-f]+$/.test(line)) a.push(Buffer.from(line, 'hex'));
  }
  return { fromNode0: Buffer.concat(a), fromNode1: Buffer.concat(b) };
}
