/**
 * The target scenario: the same proxy engine as for secchat's own chat, put between a student's
 * own client and server. secchat starts the student's server on a free loopback port, an optional
 * observer client straight on the server (the "other user" whose screen shows what the server
 * delivered), and the victim client pointed at the proxy; it writes the client's `send` text (with
 * a fresh canary) to its stdin, waits until the canary was delivered or time ran out, and stops
 * every process group. What the proxy saw and what each program printed are the observations.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeScratchDir } from '../../core/scratch-dir.ts';
import type { Target } from '../../core/target.ts';
import { fillCommand, fillSend } from '../../core/target.ts';
import { ProxyEngine, type ProxyAddon, type ProxyConnectionRecord } from '../proxy.ts';
import { freeLoopbackPort, TargetProcess, waitReady } from './processes.ts';

/** Where target programs connect and listen: loopback only. */
export const TARGET_HOST = '127.0.0.1';

/** What one target run observed. */
export interface TargetObservations {
  canary: string;
  /** the exact text written to the victim client's stdin */
  sendText: string;
  proxy: { connections: ProxyConnectionRecord[]; engine: ProxyEngine } | null;
  server: { port: number; output: string };
  client: { output: string; stderr: string; exit: { code: number | null; signal: string | null } | null; argv: string[] };
  /** the observer client, when the target has one: its output and how many times the canary appeared in it */
  observer: { output: string; canaryCopies: number } | null;
  /** the canary appeared in the server's own output (its log) */
  serverLogged: boolean;
  /** the canary reached the observer (or, with no observer, the server's log) */
  delivered: boolean;
  durationMs: number;
}

/** Options of {@link runTargetConversation}. */
export interface TargetRunOptions {
  canary: string;
  /** folder for the run's files (the premise CA bundle) */
  tmpDir: string;
  /** proxy addon; default a plain relay. `null`: no proxy, the client talks to the server directly (the control run) */
  addon?: ProxyAddon | null;
  /** PEM roots added to the CA file the victim client loads through `{ca}` (a premise the verdict states) */
  extraTrustPems?: string[];
  /** receives NSS key log lines of the proxy's own TLS hops */
  keylog?: (line: Buffer) => void;
  /**
   * when delivery counts as complete, from the observer's output (default: the canary appears
   * once); a replay waits for a second copy, up to the target's deliveryMs
   */
  deliveredWhen?: (observerOutput: string, canary: string) => boolean;
  /** start the target's observer client too (default true; runs that only watch the handshake skip it) */
  withObserver?: boolean;
  /** called once the client is running and fed, before waiting for delivery (attacks act here) */
  whileRunning?: (live: { proxy: ProxyEngine | null; serverPort: number }) => Promise<void>;
}

/** How long the victim client gets to connect before its input is written anyway, in ms. */
const CONNECT_WAIT_MS = 2000;
/** Longest wait for the observer client to start and for the server to take its name, ms. */
const OBSERVER_READY_MS = 5000;
/** After the observer reacted to its name, how long the server may still take to show it registered it, ms. */
const SERVER_NAME_GRACE_MS = 1500;
/** Extra time after delivery, in ms, so a duplicated or late message is seen too. */
const LINGER_MS = 300;

function count(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/**
 * Starts the target's server on a free loopback port and waits until it is ready.
 * @returns the process (the caller stops it) and its port
 * @throws SecchatError SECCHAT_ERR_TARGET_PROCESS when it does not become ready (it is stopped)
 */
export async function startTargetServer(target: Target): Promise<{ proc: TargetProcess; port: number }> {
  const port = await freeLoopbackPort();
  const argv = fillCommand(target.server.command, { port, host: TARGET_HOST, cert: target.server.certificate, key: target.server.privateKey });
  const proc = TargetProcess.start('server', argv, target.dir);
  try {
    await waitReady(proc, port, target.server.ready, target.readyTimeoutMs);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, port };
}

/**
 * Runs the target's client against its server once, through the proxy.
 * @returns observations; failures of the student's programs are observations, not exceptions
 * @throws SecchatError SECCHAT_ERR_TARGET_PROCESS when the server does not start
 */
export async function runTargetConversation(target: Target, opts: TargetRunOptions): Promise<TargetObservations> {
  const started = performance.now();
  const { proc: server, port } = await startTargetServer(target);
  const procs: TargetProcess[] = [server];
  let proxy: ProxyEngine | null = null;
  try {
    let clientCa = target.client.ca;
    if (opts.extraTrustPems?.length && clientCa) {
      // The premise: the client's own CA file plus the attacker's roots, in a bundle it loads instead.
      clientCa = path.join(opts.tmpDir, `client-ca-bundle-${Math.random().toString(36).slice(2)}.pem`);
      writeFileSync(clientCa, [readFileSync(target.client.ca!, 'utf8').trim(), ...opts.extraTrustPems.map((p) => p.trim())].join('\n') + '\n');
    }
    let observer: TargetProcess | null = null;
    if (target.observer && opts.withObserver !== false) {
      observer = TargetProcess.start('observer', fillCommand(target.observer.command, { port, host: TARGET_HOST, ca: target.client.ca, name: target.client.expectServerName }), target.dir);
      procs.push(observer);
      // An interpreter's start and its handshake are not ours to time: a slow machine takes seconds.
      await observer.waitFor((o) => o.length > 0, OBSERVER_READY_MS);
      const [serverSeen, observerSeen] = [server.output.length, observer.output.length];
      observer.write(target.observer.send);
      // The server must register the observer's name before anything is broadcast: wait until
      // either side shows it reacted (a "joined" line, a greeting), bounded. When only the
      // observer spoke (a prompt it printed), give the server a little longer to show it took
      // the name — a server that logs nothing costs just that grace — then a short pause.
      const first = await Promise.race([
        server.waitFor((o) => o.length > serverSeen, OBSERVER_READY_MS).then((ok) => (ok ? 'server' : null)),
        observer.waitFor((o) => o.length > observerSeen, OBSERVER_READY_MS).then((ok) => (ok ? 'observer' : null)),
      ]);
      if (first !== 'server') await server.waitFor((o) => o.length > serverSeen, SERVER_NAME_GRACE_MS);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (opts.addon !== null) {
      proxy = await ProxyEngine.start({ upstream: { host: TARGET_HOST, port }, addon: opts.addon ?? undefined, upstreamServername: target.client.expectServerName, keylog: opts.keylog });
    }
    const clientPort = proxy ? proxy.port : port;
    const client = TargetProcess.start('client', fillCommand(target.client.command, { port: clientPort, host: TARGET_HOST, ca: clientCa, name: target.client.expectServerName }), target.dir);
    procs.push(client);
    const sendText = fillSend(target.client.send, opts.canary);
    const deadline = Date.now() + CONNECT_WAIT_MS;
    while (Date.now() < deadline && !client.exit && !(proxy ? proxy.connections.length > 0 : client.output.length > 0)) await new Promise((r) => setTimeout(r, 20));
    client.write(sendText);
    await opts.whileRunning?.({ proxy, serverPort: port });
    const arrived = (o: string) => o.includes(opts.canary);
    const complete = opts.deliveredWhen ? (o: string) => opts.deliveredWhen!(o, opts.canary) : arrived;
    const delivery = observer ? observer.waitFor(complete, target.deliveryMs) : server.waitFor(arrived, target.deliveryMs);
    // Without an observer, a canary in the server's log is the delivery; the linger below catches copies.
    // Stop waiting early when the client gave up (exited) and nothing is on its way any more.
    await Promise.race([delivery, client.exited.then(() => new Promise((r) => setTimeout(r, LINGER_MS)))]);
    await new Promise((r) => setTimeout(r, LINGER_MS));
    await client.stop();
    if (proxy) await proxy.idle(500);
    return {
      canary: opts.canary,
      sendText,
      proxy: proxy ? { connections: proxy.connections, engine: proxy } : null,
      server: { port, output: server.output },
      client: { output: client.output, stderr: client.stderr, exit: client.exit, argv: client.argv },
      observer: observer ? { output: observer.output, canaryCopies: count(observer.output, opts.canary) } : null,
      serverLogged: arrived(server.output),
      delivered: observer ? arrived(observer.output) : arrived(server.output),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await proxy?.close();
  }
}

/** Whether each target's chat works without an attacker, computed once per process. */
const controls = new Map<string, Promise<{ works: boolean; detail: string }>>();

/**
 * The control run: the client straight to the server, no proxy. A `blocked` verdict means
 * something only if the canary gets delivered here.
 */
export function targetControlRun(target: Target, canary: string): Promise<{ works: boolean; detail: string }> {
  const key = JSON.stringify(target);
  let c = controls.get(key);
  if (!c) {
    c = (async () => {
      const tmpDir = makeScratchDir('secchat-target-control-');
      try {
        // A loaded machine can make a student's interpreter miss one time limit: one more run
        // before "the app does not work" stands (and is cached for the process).
        let obs = await runTargetConversation(target, { canary, tmpDir, addon: null });
        let retried = '';
        if (!obs.delivered) {
          retried = ` (second try; the first: ${failedDelivery(obs)})`;
          obs = await runTargetConversation(target, { canary, tmpDir, addon: null });
        }
        if (obs.delivered) return { works: true, detail: `control run without an attacker: the canary reached ${obs.observer ? 'the observer client' : "the server's log"}${retried}` };
        return { works: false, detail: `${failedDelivery(obs)}${retried}` };
      } catch (err) {
        return { works: false, detail: (err as Error).message };
      } finally {
        rmSync(tmpDir, { recursive: true, force: true });
      }
    })();
    controls.set(key, c);
  }
  return c;
}

/** Why a run did not deliver, with what each program printed last. */
function failedDelivery(obs: TargetObservations): string {
  const where = obs.observer ? 'the observer client' : "the server's log";
  return `the canary did not reach ${where}; client said: ${lastLines(obs.client.output) || '(nothing)'}; server said: ${lastLines(obs.server.output) || '(nothing)'}${obs.observer ? `; observer said: ${lastLines(obs.observer.output) || '(nothing)'}` : ''}`;
}

/** The last lines of a program's output on one line, for evidence. */
export function lastLines(output: string, n = 3): string {
  return output
    .trimEnd()
    .split('\n')
    .filter((l) => !/DeprecationWarning|^\s+context\./.test(l))
    .slice(-n)
    .join(' ⏎ ');
}
