/**
 * Runs the real `secchat` command (bin/secchat.mjs) in a child process, as a user would: for
 * end-to-end tests of the CLI against servers over loopback.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve(__dirname, '../../bin/secchat.mjs');

/** The outcome of one command. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `secchat ARGS` in `cwd` with `input` on stdin, killed after `timeoutMs` (default 90,000 ms: a loaded CI machine takes seconds per RSA key).
 */
export function runCli(args: string[], opts: { cwd: string; input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** A `secchat server` child process, its output so far, and a way to stop it. */
export interface CliServer {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  stderr: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `secchat server ARGS` (add `--port 0`) and waits for its "listening on HOST:PORT" line
 * (at most `timeoutMs`, default 90,000 ms).
 * @throws Error with the server's stderr when it exits or does not start in time
 */
export function startCliServer(args: string[], opts: { cwd: string; timeoutMs?: number }): Promise<CliServer> {
  const proc = spawn(process.execPath, [BIN, 'server', ...args], { cwd: opts.cwd });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('close', r));
  };
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      void stop();
      reject(new Error(`server did not start: ${err}`));
    }, opts.timeoutMs ?? 90_000);
    proc.once('close', () => {
      clearTimeout(t);
      reject(new Error(`server exited: ${err}`));
    });
    proc.stdout.on('data', () => {
      const m = /listening on [^\s]+?:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ proc, port: Number(m[1]), stderr: () => err, stop });
      }
    });
  });
}
