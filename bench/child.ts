/**
 * Parent side of bench/server-process.ts: starts a server in a child process (compiled when this
 * module is, else node + tsx), reads its port, and asks it for its own CPU and memory figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ProcessStats, ServerProcessConfig } from './server-process.ts';

// Compiled (dist/bench/child.js) the child runs compiled too; from the sources it needs tsx.
/** True when the benchmark (and so every server child) runs the compiled dist/, not the sources through tsx. */
export const COMPILED = import.meta.url.endsWith('.js');
const ENTRY = fileURLToPath(new URL(COMPILED ? './server-process.js' : './server-process.ts', import.meta.url));
/** How long a child may take to start listening, ms (tsx compiles on first start). */
export const CHILD_START_TIMEOUT_MS = 30_000;

/** A server running in a child process. */
export class ServerProcess {
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly replies: Array<(o: Record<string, unknown>) => void> = [];
  private readonly cleanup: () => void;

  private constructor(child: ChildProcess, port: number, lines: readline.Interface, cleanup: () => void) {
    this.child = child;
    this.port = port;
    this.cleanup = cleanup;
    lines.on('line', (l) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l);
      } catch {
        return;
      }
      this.replies.shift()?.(o);
    });
  }

  /**
   * Starts a child running `config`.
   * @throws Error with the child's stderr when it exits or stays silent for {@link CHILD_START_TIMEOUT_MS}
   */
  static async start(config: ServerProcessConfig): Promise<ServerProcess> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-bench-child-'));
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 }); // holds a private key
    // tsx's one export is its loader; resolved from here so any working directory works.
    const loader = COMPILED ? [] : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
    const child = spawn(process.execPath, [...loader, ENTRY, file], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const lines = readline.createInterface({ input: child.stdout! });
    const cleanup = () => rmSync(dir, { recursive: true, force: true });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`benchmark ${config.kind} server did not start within ${CHILD_START_TIMEOUT_MS} ms: ${stderr}`)), CHILD_START_TIMEOUT_MS);
        const onLine = (l: string) => {
          try {
            const o = JSON.parse(l);
            if (o.ready) {
              clearTimeout(timer);
              lines.off('line', onLine);
              resolve(o.port);
            }
          } catch {
            /* not ours */
          }
        };
        lines.on('line', onLine);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`benchmark ${config.kind} server exited with ${code}: ${stderr}`));
        });
      });
      return new ServerProcess(child, port, lines, cleanup);
    } catch (err) {
      child.kill('SIGKILL');
      cleanup();
      throw err;
    }
  }

  private ask(cmd: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.child.stdin!.write(cmd + '\n');
    });
  }

  /** The child's CPU and memory figures (see {@link ProcessStats}). */
  async stats(): Promise<ProcessStats> {
    return (await this.ask('stats')).stats as ProcessStats;
  }

  /** Starts a new measurement period: peak RSS, CPU and wall time count from now. */
  async resetPeak(): Promise<void> {
    await this.ask('reset-peak');
  }

  /** Asks the child to close and exit; kills it if it has not after 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.stdin!.end('exit\n');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    this.cleanup();
  }
}
