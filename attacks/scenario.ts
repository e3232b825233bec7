/**
 * A scenario run: start the real chat server with a profile on a free loopback port (own
 * temporary database), put the proxy engine in the path with one attack's addon, drive two
 * scripted clients — alice sends bob a random canary in a direct message, bob replies — and
 * collect observations. The attack turns them into a verdict; this file adds identity and timing.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChatClient } from '../client/chat-client.ts';
import { describeError, SecchatError } from '../core/errors.ts';
import { makeScratchDir } from '../core/scratch-dir.ts';
import type { Frame } from '../core/frames.ts';
import type { Profile } from '../core/profile.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { startChatServer, type ChatServer, type ServerLogEntry } from '../server/chat-server.ts';
import { PassedLoginCache, passwordPolicyRefusal, UserStore } from '../server/user-store.ts';
import { ProxyEngine } from './proxy.ts';
import { connectLabClient } from './kit/lab-client.ts';
import { resultCell, withRunArtifacts } from './kit/result-cell.ts';
import { probePosition } from './kit/position.ts';
import { DEFAULT_THIEF_BUDGET_CORE_SECONDS } from './password-cracker.ts';
import type { Attack, AttackContext, ClientObservation, ConversationOptions, LiveConversation, Observations, Verdict } from './types.ts';
import { RESULT_SCHEMA_VERSION, type CellResult } from '../reports/results.ts';

/**
 * The scripted users and their passwords. alice's is a common word plus a year — a natural member
 * of any cracking list, about a thousand candidates into attacks/wordlists/common-passwords.txt
 * (the password-crack lesson); bob's is random and in no list.
 */
export const LAB_USERS = {
  alice: 'dragon2024',
  bob: randomBytes(12).toString('base64url'),
} as const;

/** Words for passphrases: uncommon enough that four of them, joined, are in no cracking list. */
const PASSPHRASE_WORDS = ['copper', 'violin', 'meadow', 'tundra', 'saffron', 'glacier', 'lantern', 'orchid', 'basalt', 'falcon', 'quartz', 'harbor', 'juniper', 'nebula', 'pepper', 'walrus'];
/** A random passphrase of four words and a number, e.g. "copper-walrus-nebula-orchid-4821". */
function passphrase(): string {
  const b = randomBytes(6);
  return [0, 1, 2, 3].map((i) => PASSPHRASE_WORDS[b[i] % PASSPHRASE_WORDS.length]).join('-') + '-' + b.readUInt16BE(4);
}

const usersByPolicy = new Map<string, { alice: string; bob: string }>();
/**
 * The users the scenario registers under `profile`: {@link LAB_USERS}, unless the profile's
 * `auth.passwordPolicy` refuses one — then that user registers a strong passphrase, as a real
 * user of that server would have to (fixed per policy within a process).
 */
export function labUsers(profile: Profile): { alice: string; bob: string } {
  const policy = profile.auth.passwordPolicy ?? null;
  const key = JSON.stringify(policy);
  let users = usersByPolicy.get(key);
  if (!users) {
    const pick = (pw: string) => {
      for (let i = 0; i < 20 && passwordPolicyRefusal(pw, policy); i++) pw = passphrase() + (i ? randomBytes(8).toString('hex') : '');
      return pw;
    };
    users = { alice: pick(LAB_USERS.alice), bob: pick(LAB_USERS.bob) };
    usersByPolicy.set(key, users);
  }
  return users;
}

/** Time limits of a scripted conversation, in ms: short, because loopback answers in microseconds. */
export const SCENARIO_TIMEOUTS = { connectMs: 4000, requestMs: 4000, deliveryMs: 2500 } as const;

/**
 * Every scenario server of this process shares one cache of passed password checks: the seeded
 * accounts log in to each of a matrix's ~250 servers, and each scrypt check costs ~50 ms of CPU.
 * Wrong passwords are never cached (server/user-store.ts).
 */
const PASSED_LOGINS = new PassedLoginCache();
const templates = new Map<string, Promise<{ db: Buffer; pepper: Buffer | null }>>();
/** Log entries of servers started through an attack context, so a conversation on them sees their log. */
const serverLogs = new WeakMap<ChatServer, ServerLogEntry[]>();

/**
 * A fresh account database in `tmpDir` holding alice and bob, their passwords stored the way the
 * profile says (storage, scrypt parameters, pepper — whose key file goes beside the database, as
 * the server keeps it). The accounts exist before the scenario (users registered long ago);
 * hashing them once per process and copying the files keeps each run from paying for two scrypt
 * registrations.
 * @returns the path of the new SQLite file
 */
export async function seededDatabase(tmpDir: string, profile: Profile): Promise<string> {
  const users = labUsers(profile);
  const key = JSON.stringify([profile.auth.storage, profile.auth.scrypt ?? null, profile.auth.pepper === true, users]);
  let template = templates.get(key);
  if (!template) {
    template = (async () => {
      const dir = makeScratchDir('secchat-seed-');
      const file = path.join(dir, 'users.db');
      const store = new UserStore(file, { storage: profile.auth.storage, scrypt: profile.auth.scrypt, pepperFile: profile.auth.pepper ? `${file}.pepper` : null });
      for (const [name, password] of Object.entries(users)) await store.create(name, password);
      store.close(); // checkpoints the write-ahead log into the file
      const bytes = { db: readFileSync(file), pepper: profile.auth.pepper ? readFileSync(`${file}.pepper`) : null };
      rmSync(dir, { recursive: true, force: true });
      return bytes;
    })();
    templates.set(key, template);
  }
  const file = path.join(tmpDir, `users-${randomBytes(4).toString('hex')}.db`);
  const t = await template;
  writeFileSync(file, t.db, { mode: 0o600 });
  if (t.pepper) writeFileSync(`${file}.pepper`, t.pepper, { mode: 0o600 });
  return file;
}

/** A fresh random canary: the secret the attacker tries to read or alter. */
export function newCanary(): string {
  return 'canary-' + randomBytes(12).toString('hex');
}

async function scriptedClient(
  who: 'alice' | 'bob',
  profile: Profile,
  pki: PkiMaterial,
  port: number,
  extraCa: string[],
  keylog?: (line: Buffer) => void,
): Promise<{ client: ChatClient | null; obs: ClientObservation }> {
  const obs: ClientObservation = { connected: false, loggedIn: false, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [] };
  let client: ChatClient | null = null;
  try {
    client = await connectLabClient(profile, pki, port, { timeoutMs: SCENARIO_TIMEOUTS, extraCaPems: extraCa, keylog });
    obs.connected = true;
    obs.negotiated = client.negotiated;
    obs.channel = client.channelNegotiated;
    obs.fallbackAttempts = client.fallbackAttempts;
    obs.localAddress = client.localAddress;
    obs.received = client.received;
    await client.login(who, labUsers(profile)[who]);
    obs.loggedIn = true;
  } catch (err) {
    const d = describeError(err);
    obs.error = { ...d, details: err instanceof SecchatError ? err.details : undefined };
    if (client) obs.received = client.received;
    client?.close();
    client = null;
  }
  return { client, obs };
}

/**
 * Runs the standard conversation once.
 * @returns observations; never throws for attack-induced failures (they are observations)
 */
export async function runConversation(profile: Profile, pki: PkiMaterial, tmpDir: string, canary: string, opts: ConversationOptions = {}): Promise<Observations> {
  const started = performance.now();
  const log: ServerLogEntry[] = opts.server ? (serverLogs.get(opts.server) ?? []) : [];
  const server =
    opts.server ??
    (await startChatServer({ profile, identity: pki.server, dbPath: await seededDatabase(tmpDir, profile), passedLogins: PASSED_LOGINS, log: (e) => log.push(e) }));
  const proxy = opts.addon === null ? null : await ProxyEngine.start({ upstream: { host: '127.0.0.1', port: server.port }, addon: opts.addon ?? undefined, upstreamServername: 'localhost', keylog: opts.keylog });
  const port = proxy ? proxy.port : server.port;
  const extra = opts.extraTrustedCaPems ?? [];
  // The canary leads the message: a known-plaintext attacker on CBC can reach the first block.
  const canaryMessage = `${canary} is the secret`;
  let bobReceived: string | null = null;
  let aliceReceived: string | null = null;
  const clientProfile = opts.clientProfile ?? profile;
  const [a, b] = await Promise.all([scriptedClient('alice', clientProfile, pki, port, extra, opts.keylog), scriptedClient('bob', clientProfile, pki, port, extra, opts.keylog)]);
  try {
    if (a.client && b.client) {
      const live: LiveConversation = { alice: a.client, bob: b.client, server, proxy, alicePeer: a.obs.localAddress, canaryMessage, serverLog: log };
      await opts.beforeCanary?.(live);
      const bobGets = b.client.waitFor((f) => f.type === 'dm' && f.from === 'alice', SCENARIO_TIMEOUTS.deliveryMs).catch(() => null);
      let got: Frame | null;
      try {
        await a.client.dm('bob', canaryMessage);
        got = await bobGets;
      } catch (err) {
        a.obs.error ??= describeError(err);
        // alice's request failed (refused, connection closed): bob gets a short grace period only.
        got = await Promise.race([bobGets, new Promise<null>((r) => setTimeout(() => r(null), 300))]);
      }
      if (got) {
        bobReceived = String(got.text);
        const aliceGets = a.client.waitFor((f) => f.type === 'dm' && f.from === 'bob', SCENARIO_TIMEOUTS.deliveryMs).catch(() => null);
        await b.client.dm('alice', 'got it, thanks').catch((err) => (b.obs.error ??= describeError(err)));
        const reply = await aliceGets;
        if (reply) aliceReceived = String(reply.text);
      }
      await opts.afterExchange?.(live);
    }
  } finally {
    await Promise.all([a.client?.quit(), b.client?.quit()]);
    if (proxy) {
      await proxy.idle(1000);
      await proxy.close();
    }
    if (!opts.server && !opts.keepServer) await server.close();
  }
  return {
    canary,
    canaryMessage,
    proxy: proxy ? { connections: proxy.connections, engine: proxy } : null,
    clients: { alice: a.obs, bob: b.obs },
    server: { log, port: server.port },
    bobReceived,
    bobCanaryCopies: b.obs.received.filter((f) => f.type === 'dm' && f.from === 'alice' && String(f.text).includes(canary)).length,
    aliceReceived,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Whether the chat works with no attacker present, per profile (and PKI), computed once per process. */
const controls = new Map<string, Promise<{ works: boolean; detail: string }>>();

/**
 * The control run: the standard conversation with no proxy and no attacker. A `blocked` verdict
 * means something only if this works.
 */
export function controlRun(profile: Profile, pki: PkiMaterial): Promise<{ works: boolean; detail: string }> {
  const key = JSON.stringify([profile, pki.dir, pki.server.certPem.length]);
  let control = controls.get(key);
  if (!control) {
    control = (async () => {
      const tmpDir = makeScratchDir('secchat-control-');
      try {
        const obs = await runConversation(profile, pki, tmpDir, newCanary(), { addon: null });
        if (obs.bobReceived === obs.canaryMessage && obs.aliceReceived !== null) return { works: true, detail: 'control run without an attacker: alice and bob exchanged their messages' };
        const err = obs.clients.alice.error ?? obs.clients.bob.error;
        return { works: false, detail: err ? `${err.code}: ${err.message}` : 'the messages did not arrive' };
      } finally {
        rmSync(tmpDir, { recursive: true, force: true });
      }
    })();
    controls.set(key, control);
  }
  return control;
}

/** Options of {@link runAttack}. */
export interface RunAttackOptions {
  canary?: string;
  /**
   * folder where the run keeps its artifacts (created when needed): the capture of every proxy the
   * attack used (`capture.pcap`), the endpoints' key log (`sessions.keylog`), and whatever the
   * attack itself writes there. null or absent: nothing is kept.
   */
  artifactDir?: string | null;
  /** receives NSS key log lines of every TLS session of the run (victim clients, proxy hops) */
  keylog?: (line: Buffer) => void;
  /** the password thief's budget in CPU-core seconds (default {@link DEFAULT_THIEF_BUDGET_CORE_SECONDS}: one core, one day) */
  crackBudgetCoreSeconds?: number;
}

/**
 * Runs one attack against one profile in isolation and returns the result cell.
 * Failures of the run itself become outcome `error`; nothing is thrown.
 */
export async function runAttack(attack: Attack, profile: Profile, pki: PkiMaterial, opts: RunAttackOptions = {}): Promise<CellResult> {
  const started = performance.now();
  const canary = opts.canary ?? newCanary();
  const base = { schemaVersion: RESULT_SCHEMA_VERSION, profile: profile.name, attack: attack.id, canary } as const;
  const why = attack.applicability?.(profile) ?? null;
  if (why) {
    return { ...base, outcome: 'not-applicable', impact: [], reason: why, summary: 'not applicable', evidence: [], negotiated: null, durationMs: Math.round(performance.now() - started) };
  }
  const tmpDir = makeScratchDir('secchat-run-');
  const servers: ChatServer[] = [];
  // What the run carried, for the artifacts: every proxy the attack used, every session secret.
  // The attack itself never sees the key log lines (retro-decrypt must work without them).
  const proxies: ProxyEngine[] = [];
  const keylogLines: Buffer[] = [];
  const keylog = (line: Buffer) => {
    keylogLines.push(Buffer.from(line));
    opts.keylog?.(line);
  };
  const ctx: AttackContext = {
    profile,
    pki,
    canary,
    tmpDir,
    artifactDir: opts.artifactDir ?? null,
    users: labUsers(profile),
    crackBudgetCoreSeconds: opts.crackBudgetCoreSeconds ?? DEFAULT_THIEF_BUDGET_CORE_SECONDS,
    async startServer() {
      const log: ServerLogEntry[] = [];
      const s = await startChatServer({ profile, identity: pki.server, dbPath: await seededDatabase(tmpDir, profile), passedLogins: PASSED_LOGINS, log: (e) => log.push(e) });
      serverLogs.set(s, log);
      servers.push(s);
      return s;
    },
    position: () => probePosition(profile, pki),
    async runConversation(o) {
      const own = o?.keylog;
      const both = own
        ? (line: Buffer) => {
            keylog(line);
            own(line);
          }
        : keylog;
      const obs = await runConversation(profile, pki, tmpDir, o?.canary ?? canary, { ...o, keylog: both });
      if (obs.proxy) proxies.push(obs.proxy.engine);
      return obs;
    },
  };
  let verdict: Verdict;
  try {
    verdict = await attack.run(ctx);
    if (verdict.outcome === 'blocked' && !attack.independentOfChat) {
      const control = await controlRun(profile, pki);
      if (control.works) verdict.evidence.push({ kind: 'control', detail: control.detail });
      else {
        verdict = {
          ...verdict,
          outcome: 'error',
          reason: `no verdict: the chat does not work with this profile even without an attacker (${control.detail}), so "blocked" would prove nothing`,
          summary: 'chat broken without attacker',
          evidence: [...verdict.evidence, { kind: 'control', detail: `control run without an attacker failed: ${control.detail}` }],
        };
      }
    }
  } catch (err) {
    const d = describeError(err);
    verdict = { outcome: 'error', reason: `the run itself failed: ${d.code}: ${d.message}`, summary: `run failed: ${d.code}`.slice(0, 40), impact: [], evidence: [{ kind: 'error', detail: String((err as Error)?.stack ?? err) }], negotiated: null };
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(tmpDir, { recursive: true, force: true });
  }
  if (ctx.artifactDir) {
    // Kept even when the run failed: the capture is how one finds out why.
    verdict = withRunArtifacts(verdict, ctx.artifactDir, proxies, keylogLines);
  }
  return resultCell(base, verdict, started);
}
