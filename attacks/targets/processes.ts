/**
 * Starting and stopping a student's own programs (a target's server, client and observer).
 *
 * Each runs in its own process group (`detached`), so stopping it stops whatever it forked too:
 * SIGTERM to the group, then SIGKILL after a grace period. Output is kept (bounded), because a
 * refusal printed by the student's client ("certificate verify failed: self-signed certificate")
 * is evidence. Python buffers stdout when it is a pipe, so PYTHONUNBUFFERED=1 is set: a `print`
 * must reach us when it happens, not at exit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import { ERROR_CODES, SecchatError } from '../../core/errors.ts';

/** Output kept per process, in bytes: enough for tracebacks, bounded for a process that floods. */
export const MAX_KEPT_OUTPUT_BYTES = 1024 * 1024;

/** One running program of a target. */
export class TargetProcess {
  readonly label: string;
  readonly argv: string[];
  readonly child: ChildProcessWithoutNullStreams;
  /** stdout and stderr as received, interleaved in arrival order (bounded) */
  output = '';
  stderr = '';
  exit: { code: number | null; signal: string | null } | null = null;
  readonly exited: Promise<void>;
  private waiters: Array<() => void> = [];

  private constructor(label: string, argv: string[], cwd: string) {
    this.label = label;
    this.argv = argv;
    this.child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    });
    const keep = (d: Buffer, err: boolean) => {
      const s = d.toString('utf8');
      if (this.output.length < MAX_KEPT_OUTPUT_BYTES) this.output += s.slice(0, MAX_KEPT_OUTPUT_BYTES - this.output.length);
      if (err && this.stderr.length < MAX_KEPT_OUTPUT_BYTES) this.stderr += s.slice(0, MAX_KEPT_OUTPUT_BYTES - this.stderr.length);
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout.on('data', (d: Buffer) => keep(d, false));
    this.child.stderr.on('data', (d: Buffer) => keep(d, true));
    // A client that exits before we write to it closes its stdin: that is an observation, not a crash.
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const w of this.waiters.splice(0)) w();
        resolve();
      });
      this.child.once('error', (err) => {
        this.output += `\n[secchat: could not start ${argv[0]}: ${err.message}]\n`;
        this.exit ??= { code: null, signal: null };
        for (const w of this.waiters.splice(0)) w();
        resolve();
      });
    });
  }

  /**
   * Starts `argv` in `cwd` in a new process group.
   * @param label how evidence names it ("server", "client", "observer")
   */
  static start(label: string, argv: string[], cwd: string): TargetProcess {
    return new TargetProcess(label, argv, cwd);
  }

  /** Writes text to the program's stdin (ignored once it has exited). */
  write(text: string): void {
    if (!this.exit && this.child.stdin.writable) this.child.stdin.write(text);
  }

  /**
   * Resolves true when `pred(output)` holds, false after `timeoutMs` or when the process exits
   * without it holding.
   */
  waitFor(pred: (output: string) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (pred(this.output)) return finish(true);
        if (this.exit) return finish(false);
        this.waiters.push(check);
      };
      const t = setTimeout(() => finish(false), timeoutMs);
      let done = false;
      const finish = (v: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        resolve(v);
      };
      check();
    });
  }

  /** The last `n` lines of its output, for evidence. */
  tail(n = 4): string {
    return this.output.trimEnd().split('\n').slice(-n).join(' ⏎ ');
  }

  /**
   * Stops the whole process group: SIGTERM, then SIGKILL after `graceMs`. Resolves once it exited
   * (or after the kill; a zombie child never blocks the run).
   */
  async stop(graceMs = 500): Promise<void> {
    if (this.exit) return;
    const pid = this.child.pid;
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (pid) process.kill(-pid, sig);
      } catch {
        /* already gone */
      }
    };
    this.child.stdin.end();
    signalGroup('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs))]);
    if (!done) {
      signalGroup('SIGKILL');
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, graceMs))]);
    }
  }
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; the caller binds it soon after). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Waits until a started server is ready: its output contains `readyLine`, or (without one) its
 * port accepts connections. Polls the port every 50 ms.
 * @throws SecchatError SECCHAT_ERR_TARGET_PROCESS when it exits first or `timeoutMs` passes,
 *   quoting its last output
 */
export async function waitReady(proc: TargetProcess, port: number, readyLine: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  if (readyLine) {
    if (await proc.waitFor((o) => o.includes(readyLine), timeoutMs)) return;
  } else {
    while (Date.now() < deadline && !proc.exit) {
      if (await portOpen(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const why = proc.exit ? `it exited (code ${proc.exit.code ?? proc.exit.signal})` : `not ready after ${timeoutMs} ms (${readyLine ? `no line containing "${readyLine}"` : `port ${port} not open`})`;
  throw new SecchatError(ERROR_CODES.TARGET_PROCESS, `the target's ${proc.label} (${proc.argv.join(' ')}) did not start: ${why}; its last output: ${proc.tail() || '(none)'}`, { argv: proc.argv, output: proc.output });
}
