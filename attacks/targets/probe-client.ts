/**
 * The robustness probes' own chat clients: a socket to the student's server speaking its transport
 * (TLS from the first byte, or plaintext — the server is the target, so the probe client accepts
 * any certificate and any version), which joins with the name line of `client.send` and counts
 * what it receives. It keeps counts and a bounded tail, never the whole stream: a probe may push
 * megabytes through it. Shared by the target variants in robustness-*.ts.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Target } from '../../core/target.ts';
import { startTargetServer, TARGET_HOST } from './scenario.ts';

/** Bytes of the received stream kept for searching (a tag is found if it arrived in the last this-many bytes). */
export const PROBE_TAIL_BYTES = 256 * 1024;
/** Longest wait for a probe client's TCP connect and TLS handshake, ms. */
export const PROBE_CONNECT_MS = 5000;

/** One probe client on the target's server. */
export class ProbeClient {
  readonly socket: net.Socket | tls.TLSSocket;
  /** bytes received in total */
  received = 0;
  /** the last {@link PROBE_TAIL_BYTES} received, latin1 */
  tail = '';
  /** `count(byte)` per byte value asked for in {@link countByte} */
  private counted = new Map<number, number>();
  /** the server closed or reset the connection (or it failed) */
  closed = false;
  /** why it closed: "end", "ECONNRESET"… */
  closeReason: string | null = null;
  /** ms since start of the last chunk received */
  lastDataAt = 0;
  private waiters: Array<() => void> = [];
  private readonly t0 = performance.now();

  private constructor(socket: net.Socket | tls.TLSSocket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.received += d.length;
      this.lastDataAt = performance.now() - this.t0;
      for (const [b, n] of this.counted) {
        let k = 0;
        for (let i = d.indexOf(b); i >= 0; i = d.indexOf(b, i + 1)) k++;
        this.counted.set(b, n + k);
      }
      this.tail = (this.tail + d.toString('latin1')).slice(-PROBE_TAIL_BYTES);
      this.wake();
    });
    const close = (why: string) => {
      if (this.closed) return;
      this.closed = true;
      this.closeReason = why;
      this.wake();
    };
    socket.on('end', () => close('the server closed the connection'));
    socket.on('error', (e: NodeJS.ErrnoException) => close(e.code ?? e.message));
    socket.on('close', () => close('closed'));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Connects to the target's server on 127.0.0.1:`port` with its transport.
   * @param handshake false: open TCP only (the caller writes whatever it likes, e.g. part of a ClientHello)
   * @throws Error when the connection or the handshake fails or takes longer than `timeoutMs`
   */
  static connect(target: Target, port: number, opts: { handshake?: boolean; timeoutMs?: number } = {}): Promise<ProbeClient> {
    const timeoutMs = opts.timeoutMs ?? PROBE_CONNECT_MS;
    const useTls = target.server.transport === 'tls' && opts.handshake !== false;
    return new Promise((resolve, reject) => {
      const s = useTls
        ? tls.connect({ host: TARGET_HOST, port, servername: target.client.expectServerName, rejectUnauthorized: false, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' })
        : net.connect({ host: TARGET_HOST, port });
      const c = new ProbeClient(s);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no ${useTls ? 'TLS handshake' : 'connection'} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once(useTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        (s as net.Socket).setNoDelay?.(true);
        resolve(c);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Starts counting occurrences of byte `b` in what arrives from now on. */
  countByte(b: number): void {
    this.counted.set(b, this.counted.get(b) ?? 0);
  }

  /** How many times byte `b` arrived since {@link countByte}. */
  countOf(b: number): number {
    return this.counted.get(b) ?? 0;
  }

  /**
   * Writes and waits until the bytes left node's buffer for the kernel's.
   * @returns 'written'; 'closed' when the connection is gone; 'stuck' when they did not leave
   *   within `timeoutMs` (the server stopped reading and every buffer on the way is full)
   */
  write(data: string | Buffer, timeoutMs = PROBE_CONNECT_MS): Promise<'written' | 'closed' | 'stuck'> {
    if (this.closed || this.socket.destroyed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: 'written' | 'closed' | 'stuck') => {
        if (done) return;
        done = true;
        clearTimeout(t);
        this.socket.off('close', onClose);
        resolve(v);
      };
      const onClose = () => finish('closed');
      const t = setTimeout(() => finish('stuck'), timeoutMs);
      this.socket.once('close', onClose);
      this.socket.write(data, (err) => finish(err ? 'closed' : 'written'));
    });
  }

  /** Resolves true once everything written has left node's buffer, false after `timeoutMs` or when closed first. */
  async flushed(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.socket.writableLength > 0) {
      if (this.closed || performance.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }

  /** Resolves true when `pred(this)` holds, false after `timeoutMs` (or at once when closed and it does not hold). */
  waitFor(pred: (c: ProbeClient) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        resolve(v);
      };
      const check = () => {
        if (pred(this)) return finish(true);
        if (this.closed) return finish(false);
        this.waiters.push(check);
      };
      const t = setTimeout(() => finish(false), timeoutMs);
      check();
    });
  }

  /** Stops reading: the kernel buffers fill and the server's writes to it block (a client that stops reading). */
  stall(): void {
    this.socket.pause();
  }

  /** Reads again. */
  resume(): void {
    this.socket.resume();
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** The name line a target's client sends first: `client.send` up to `{canary}` (e.g. "alice\n"). */
export function joinText(target: Target): string {
  return target.client.send.slice(0, target.client.send.indexOf('{canary}'));
}

/** Reads the server's resident-memory high-water mark of process `pid` (Linux /proc, kB → bytes), or null. */
export async function peakMemoryBytes(pid: number | undefined): Promise<number | null> {
  if (!pid) return null;
  try {
    const { readFile } = await import('node:fs/promises');
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Mebibytes with one decimal, for evidence. */
export const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * The last `n` lines a target program printed, without the probe's own filler (lines of '~'),
 * each cut to 160 characters: what the server said about the probe, for evidence.
 */
export function saidLines(output: string, n = 3): string {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('~~~~'))
    .slice(-n)
    .map((l) => (l.length > 160 ? `${l.slice(0, 160)}…` : l))
    .join(' ⏎ ');
}

/** Pause after a name line so a server that reads it with one recv() takes it alone, ms. */
export const AFTER_NAME_MS = 300;

/** Why a robustness probe does not apply to a target, or null: the probes speak TLS or plaintext from the first byte. */
export function probeApplicability(t: Target): string | null {
  return t.server.transport === 'starttls' ? 'the probe speaks TLS or plaintext from the first byte, not STARTTLS' : null;
}

/**
 * The student's server started for one robustness probe, and the probe's clients: `join()`
 * connects one, sends the target's join line and pauses {@link AFTER_NAME_MS}; `close()` destroys
 * every client and stops the server (process group, bounded).
 */
export async function probeSession(t: Target): Promise<{
  server: Awaited<ReturnType<typeof startTargetServer>>['proc'];
  port: number;
  clients: ProbeClient[];
  join: (timeoutMs?: number) => Promise<ProbeClient>;
  close: () => Promise<void>;
}> {
  const { proc: server, port } = await startTargetServer(t);
  const clients: ProbeClient[] = [];
  const join = async (timeoutMs?: number) => {
    const c = await ProbeClient.connect(t, port, timeoutMs === undefined ? undefined : { timeoutMs });
    clients.push(c);
    await c.write(joinText(t));
    await sleep(AFTER_NAME_MS);
    return c;
  };
  const close = async () => {
    for (const c of clients) c.destroy();
    await server.stop();
  };
  return { server, port, clients, join, close };
}
