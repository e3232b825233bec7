/**
 * Targets: a student's own chat client and server, described so secchat can start them and attack
 * them with the same engine, evidence and reports as its own chat. A target is a YAML file,
 * validated here like a profile (core/profile.ts): strict, every error names the field.
 *
 * ```yaml
 * name: my-chat
 * server:
 *   command: python3 server.py --port {port}     # started by secchat on a free loopback port
 *   ready: listening                              # a line the server prints when ready; else "port open"
 *   certificate: server.crt                       # for the certificate checks
 *   privateKey: server.key                        # the "stolen key" for retro-decrypt
 *   transport: tls                                # tls | plain | starttls (then starttls: the line to send)
 * client:
 *   command: python3 client.py --host {host} --port {port} --ca {ca}
 *   send: "alice\n{canary}\n"                     # written to the client's stdin once it runs
 *   expectServerName: localhost                   # the name the client believes it talks to
 *   ca: ca.crt                                    # the CA file the client loads (through {ca})
 * observer:                                       # optional: a second client that watches delivery
 *   command: python3 client.py --host {host} --port {port} --ca {ca}
 *   send: "bob\n"
 * ```
 * Relative paths are resolved against the target file's folder, which is also where the commands
 * run. Commands are split on spaces (quotes group words) and run without a shell.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ERROR_CODES, UsageError } from './errors.ts';

/** How the student's server carries its chat: TLS from the first byte, plaintext, or plaintext upgraded by a STARTTLS line. */
export const TARGET_TRANSPORTS = ['tls', 'plain', 'starttls'] as const;
export type TargetTransport = (typeof TARGET_TRANSPORTS)[number];

/** Placeholders each command may use; anything else in braces is refused at load. */
export const SERVER_PLACEHOLDERS = ['port', 'host', 'cert', 'key'] as const;
export const CLIENT_PLACEHOLDERS = ['port', 'host', 'ca', 'name'] as const;

/** Time limits of a target run, in ms, with the defaults the schema fills in. */
/** readyTimeoutMs is generous: a Python interpreter on a loaded 2-core machine can take seconds to print its first line. */
export const TARGET_TIME_DEFAULTS = { readyTimeoutMs: 20_000, deliveryMs: 5000, stopGraceMs: 500 } as const;

const placeholderCheck = (allowed: readonly string[]) => (cmd: string, ctx: z.RefinementCtx) => {
  for (const m of cmd.matchAll(/\{([^}]*)\}/g)) {
    if (!allowed.includes(m[1]!)) ctx.addIssue({ code: 'custom', message: `unknown placeholder {${m[1]}}; allowed: ${allowed.map((p) => `{${p}}`).join(', ')}` });
  }
};

const commandSchema = (allowed: readonly string[]) => z.string().trim().min(1, { message: 'must not be empty' }).superRefine(placeholderCheck(allowed));

const serverSchema = z
  .object({
    command: commandSchema(SERVER_PLACEHOLDERS).refine((c) => c.includes('{port}'), { message: 'must contain {port}: secchat chooses a free loopback port for the server' }),
    ready: z.string().min(1).optional(),
    certificate: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional(),
    transport: z.enum(TARGET_TRANSPORTS).default('tls'),
    /** The line a client sends to ask for the TLS upgrade (starttls only), e.g. "STARTTLS\n". */
    starttls: z.string().min(1).optional(),
  })
  .strict();

const clientSchema = z
  .object({
    command: commandSchema(CLIENT_PLACEHOLDERS).refine((c) => c.includes('{port}'), { message: 'must contain {port}: the client must connect where secchat says (the proxy)' }),
    send: z.string().refine((s) => s.includes('{canary}'), { message: 'must contain {canary}: the secret the attacker tries to read' }),
    expectServerName: z.string().min(1).default('localhost'),
    ca: z.string().min(1).optional(),
  })
  .strict();

const observerSchema = z
  .object({
    command: commandSchema(CLIENT_PLACEHOLDERS).refine((c) => c.includes('{port}'), { message: 'must contain {port}' }),
    send: z.string().default(''),
  })
  .strict();

/** The target schema (zod, strict). */
export const targetSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'must be 1-64 characters of a-z, 0-9, ".", "_" or "-"' }),
    description: z.string().default(''),
    server: serverSchema,
    client: clientSchema,
    observer: observerSchema.optional(),
    /** ms the server may take to become ready */
    readyTimeoutMs: z.number().int().min(100).max(60_000).default(TARGET_TIME_DEFAULTS.readyTimeoutMs),
    /** ms the canary may take to reach the observer (or the server's log) */
    deliveryMs: z.number().int().min(100).max(60_000).default(TARGET_TIME_DEFAULTS.deliveryMs),
  })
  .strict();

/** A validated target, with `dir` (the folder commands run in and paths are relative to) and paths made absolute. */
export type Target = z.infer<typeof targetSchema> & { dir: string; source: string };

function fieldPath(p: PropertyKey[]): string {
  return p.map(String).join('.') || '(top level)';
}

/**
 * Validates a parsed target object and resolves its file paths against `dir`.
 * @throws UsageError SECCHAT_ERR_TARGET_INVALID naming every bad field (exit 2)
 */
export function validateTarget(input: unknown, source: string, dir: string): Target {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new UsageError(ERROR_CODES.TARGET_INVALID, `${source}: a target must be a YAML mapping (key: value lines)`, { source, problems: ['not a mapping'] });
  }
  const result = targetSchema.safeParse(input);
  const problems: string[] = [];
  if (!result.success) {
    for (const i of result.error.issues) {
      const where = fieldPath(i.path);
      if (i.code === 'unrecognized_keys') for (const k of i.keys) problems.push(`${where === '(top level)' ? k : `${where}.${k}`}: unknown key (allowed: ${allowedKeys(i.path)})`);
      else problems.push(`${where}: ${i.message}`);
    }
  } else {
    const t = result.data;
    if (t.server.transport === 'starttls' && !t.server.starttls) problems.push('server.starttls: required with transport: starttls (the line the client sends to upgrade, e.g. "STARTTLS\\n")');
    if (t.server.transport !== 'starttls' && t.server.starttls) problems.push(`server.starttls: only with transport: starttls (transport is ${t.server.transport})`);
    if (t.server.starttls !== undefined) {
      // The line is what the client sends to upgrade; without its newline it is also the offer the server's greeting carries (and the attacker deletes).
      if (!t.server.starttls.endsWith('\n')) problems.push(`server.starttls: must be one line ending in a newline, e.g. "STARTTLS\\n" (got ${JSON.stringify(t.server.starttls)})`);
      else if (!/^[\x21-\x7e][\x20-\x7e]*\r?\n$/.test(t.server.starttls)) problems.push(`server.starttls: must be printable ASCII on one line, starting with a visible character, e.g. "STARTTLS\\n" (got ${JSON.stringify(t.server.starttls)})`);
    }
    for (const [field, file] of [['server.certificate', t.server.certificate], ['server.privateKey', t.server.privateKey], ['client.ca', t.client.ca]] as const) {
      if (file && !existsSync(path.resolve(dir, file))) problems.push(`${field}: no such file ${path.resolve(dir, file)}`);
    }
    if (t.client.command.includes('{ca}') && !t.client.ca) problems.push('client.ca: required when client.command uses {ca} (the CA file the client loads)');
    if (t.observer?.command.includes('{ca}') && !t.client.ca) problems.push('client.ca: required when observer.command uses {ca}');
  }
  if (problems.length) throw new UsageError(ERROR_CODES.TARGET_INVALID, `invalid target ${source}:\n  - ${problems.join('\n  - ')}`, { source, problems });
  const t = result.data!;
  const abs = (f: string | undefined) => (f ? path.resolve(dir, f) : undefined);
  return {
    ...t,
    server: { ...t.server, certificate: abs(t.server.certificate), privateKey: abs(t.server.privateKey) },
    client: { ...t.client, ca: abs(t.client.ca) },
    dir,
    source,
  };
}

function allowedKeys(p: PropertyKey[]): string {
  const shape: Record<string, z.ZodType> =
    p.length === 0 ? targetSchema.shape : p[0] === 'server' ? serverSchema.shape : p[0] === 'client' ? clientSchema.shape : p[0] === 'observer' ? observerSchema.shape : {};
  return Object.keys(shape).join(', ');
}

/**
 * Loads a target file (YAML; JSON is valid YAML).
 * @throws UsageError SECCHAT_ERR_TARGET_INVALID (exit 2) when the file is missing, not YAML, or invalid
 */
export function loadTarget(file: string): Target {
  if (!existsSync(file)) throw new UsageError(ERROR_CODES.TARGET_INVALID, `no target file ${file}`, { source: file });
  return parseTargetText(readFileSync(file, 'utf8'), file, path.dirname(path.resolve(file)));
}

/**
 * Parses a target's YAML text (e.g. one recorded with a lab pass) as if it were the file `source`
 * in folder `dir` (where its commands run and its paths are resolved).
 * @throws UsageError SECCHAT_ERR_TARGET_INVALID (exit 2) when it is not YAML or invalid
 */
export function parseTargetText(text: string, source: string, dir: string): Target {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new UsageError(ERROR_CODES.TARGET_INVALID, `${source}: not valid YAML: ${(err as Error).message}`, { source });
  }
  return validateTarget(data, source, dir);
}

/**
 * Splits a command line into words, without a shell: spaces separate, single or double quotes
 * group. No variables, globs or pipes — a target's command runs exactly the program it names.
 * @throws UsageError SECCHAT_ERR_TARGET_INVALID on an unclosed quote
 */
export function splitCommand(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let any = false;
  for (const ch of cmd) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) words.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (quote) throw new UsageError(ERROR_CODES.TARGET_INVALID, `command has an unclosed ${quote} quote: ${cmd}`, { command: cmd });
  if (cur || any) words.push(cur);
  return words;
}

/**
 * The target as a report shows it: commands, transport and file paths relative to the working
 * folder (never the contents of a key).
 */
export function targetSummary(t: Target): Record<string, unknown> {
  const rel = (f: string | undefined) => (f ? path.relative(process.cwd(), f) || '.' : undefined);
  const drop = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return drop({
    file: rel(t.source),
    server: drop({ ...t.server, certificate: rel(t.server.certificate), privateKey: rel(t.server.privateKey) }),
    client: drop({ ...t.client, ca: rel(t.client.ca) }),
    observer: t.observer,
  });
}

/**
 * True when secchat can add roots to what the target's client trusts: its command loads its CA
 * file through `{ca}` (and names one), so a run can hand it a bundle of that CA plus the
 * attacker's roots. The premise of mitm-rogue-ca, mitm-wrong-host and the certificate gallery,
 * and the wrong-host rung of the target on-path ladder, need it.
 */
export function clientTrustExtendable(t: Target): boolean {
  return !!t.client.ca && t.client.command.includes('{ca}');
}

/**
 * What a target leaves secchat unable to test, in plain words (shown as warnings, never used for
 * verdicts).
 */
export function targetWarnings(t: Target): string[] {
  const w: string[] = [];
  if (!t.observer) w.push('no observer client: replay and tamper cannot see what the server delivered, so they are n/a (add an observer: section)');
  if (!clientTrustExtendable(t)) w.push("client.command does not load its CA file through {ca}: the premise of mitm-rogue-ca, mitm-wrong-host and the certificate gallery (the client trusts the attacker's root) cannot be set up");
  if (!t.server.privateKey) w.push('no server.privateKey: retro-decrypt has no key to steal');
  if (!t.server.certificate) w.push("no server.certificate: the server's certificate is read from the handshake only");
  return w;
}

/** Replaces `{name}` placeholders in each word of a command. */
export function fillCommand(cmd: string, values: Record<string, string | number | undefined>): string[] {
  return splitCommand(cmd).map((w) => w.replace(/\{([a-z]+)\}/g, (m, k: string) => (values[k] === undefined ? m : String(values[k]))));
}

/** The text a target's client is fed: `send` with the canary (and escapes YAML already decoded). */
export function fillSend(send: string, canary: string): string {
  return send.replaceAll('{canary}', canary);
}
