/**
 * Profiles: one deployment's security settings, shared by the chat server, the client, the attacks
 * and the labs. A profile is a YAML (or JSON) file, validated here; presets live in `profiles/`.
 *
 * Validation is strict: node's `tls` silently ignores options it does not know, so an unknown
 * key here is an error rather than a setting that quietly does nothing.
 */
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ERROR_CODES, UsageError } from './errors.ts';

/** TLS protocol versions in node's spelling, oldest first (index order is used for comparisons). */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Ciphers of the application-layer secure channel; the weak ones exist to be attacked. */
export const CHANNEL_CIPHERS = ['aes-256-gcm', 'chacha20-poly1305', 'aes-128-gcm', 'aes-128-cbc-hmac-sha256', 'aes-128-cbc', 'null'] as const;
export type ChannelCipher = (typeof CHANNEL_CIPHERS)[number];

/** Transports: `starttls` upgrades opportunistically, `starttls-required` refuses to go on without TLS. */
export const TRANSPORTS = ['plain', 'tls', 'starttls', 'starttls-required'] as const;
export type Transport = (typeof TRANSPORTS)[number];

const PIN_RE = /^sha256\/[A-Za-z0-9+/]{43}=$/;

const tlsSchema = z
  .object({
    minVersion: z.enum(TLS_VERSIONS).default('TLSv1.2'),
    maxVersion: z.enum(TLS_VERSIONS).default('TLSv1.3'),
    /** OpenSSL cipher list for TLS <= 1.2, e.g. `ECDHE+AESGCM` or `AES128-GCM-SHA256`. */
    ciphers: z.string().min(1).optional(),
    /** TLS 1.3 cipher suites, colon separated, e.g. `TLS_AES_128_GCM_SHA256`. */
    ciphersuites: z.string().min(1).optional(),
    /** (EC)DHE groups, colon separated, e.g. `X25519:P-256`. */
    groups: z.string().min(1).optional(),
    /** Negotiate the extended master secret (RFC 7627); false sets SSL_OP_NO_EXTENDED_MASTER_SECRET. */
    extendedMasterSecret: z.boolean().default(true),
  })
  .strict();

const clientSchema = z
  .object({
    verify: z.enum(['none', 'ca', 'pin']).default('ca'),
    checkHostname: z.boolean().default(true),
    /** `server` (the SPKI SHA-256 of the lab server key) or `sha256/<base64>`. */
    pin: z
      .string()
      .refine((v) => v === 'server' || PIN_RE.test(v), { message: "must be 'server' or 'sha256/<base64 of 32 bytes>'" })
      .optional(),
    /** Retry a failed handshake with a lower maximum version (the browser fallback dance). */
    fallback: z.boolean().default(false),
    /**
     * PEM file of the CA certificate(s) the client trusts (what `secchat pki export-ca` writes),
     * relative to the working directory. Omitted: the lab PKI folder's ca.crt (`--pki`).
     */
    ca: z.string().min(1).optional(),
  })
  .strict();

const channelSchema = z
  .object({
    keyExchange: z.enum(['none', 'rsa', 'ecdhe', 'ecdhe-signed']).default('none'),
    ciphers: z.array(z.enum(CHANNEL_CIPHERS)).min(1).default(['aes-256-gcm', 'chacha20-poly1305']),
    transcriptMac: z.boolean().default(true),
    replayProtection: z.enum(['none', 'sequence', 'window']).default('sequence'),
    replayWindowMs: z.number().int().min(1).max(3_600_000).default(30_000),
  })
  .strict();

/**
 * scrypt cost parameters (RFC 7914 §2). Memory per derivation is 128·N·r bytes; the bound below
 * keeps one login's memory at or under {@link SCRYPT_MAX_MEMORY_BYTES}.
 */
export const SCRYPT_MAX_MEMORY_BYTES = 256 * 1024 * 1024;
/** Default scrypt parameters: N=2^14, r=8, p=1 — the interactive-login set of the scrypt paper, ~16 MiB. */
export const DEFAULT_SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;

const scryptSchema = z
  .object({
    /** CPU/memory cost: a power of two, 2^10 … 2^20. */
    N: z.number().int().refine(isPowerOfTwo, { message: 'must be a power of two (1024, 2048, … 1048576)' }).refine((n) => n >= 1024 && n <= 1 << 20, { message: 'must be between 1024 (2^10) and 1048576 (2^20)' }),
    /** block size: 1 … 32 */
    r: z.number().int().min(1).max(32),
    /** parallelism: 1 … 4 */
    p: z.number().int().min(1).max(4),
  })
  .strict()
  .refine((s) => 128 * s.N * s.r <= SCRYPT_MAX_MEMORY_BYTES, { message: `memory 128·N·r bytes must stay at or under ${SCRYPT_MAX_MEMORY_BYTES / 1048576} MiB` });

/**
 * Password policy at registration (NIST SP 800-63B §5.1.1.2): a minimum length, and refusal of
 * passwords found in a list of common ones (attacks/wordlists/common-passwords.txt).
 */
const passwordPolicySchema = z
  .object({
    /** minimum length in characters (NIST: at least 8; 15 for single-factor) */
    minLength: z.number().int().min(1).max(128).default(8),
    /** refuse passwords found in the common-password list */
    rejectCommon: z.boolean().default(false),
  })
  .strict();

const authSchema = z
  .object({
    storage: z.enum(['plaintext', 'sha256', 'scrypt']).default('scrypt'),
    method: z.enum(['password', 'challenge']).default('password'),
    /** scrypt parameters for new hashes (and rehashes at login); only with storage: scrypt */
    scrypt: scryptSchema.optional(),
    /** registration policy; absent: only the server's minimum length */
    passwordPolicy: passwordPolicySchema.optional(),
    /**
     * Pepper: an HMAC-SHA256 key kept outside the database (a file beside it, mode 0600) that
     * every password passes through before it is stored — the stolen database alone cannot be
     * cracked. Not with method: challenge (the proof is keyed with the stored value).
     */
    pepper: z.boolean().optional(),
  })
  .strict();

/** The profile schema (zod). Defaults make a minimal profile secure: TLS 1.2+, CA + hostname check. */
export const profileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'must be 1-64 characters of a-z, 0-9, ".", "_" or "-"' }),
    description: z.string().default(''),
    transport: z.enum(TRANSPORTS).default('tls'),
    tls: tlsSchema.default(() => tlsSchema.parse({})),
    client: clientSchema.default(() => clientSchema.parse({})),
    channel: channelSchema.default(() => channelSchema.parse({})),
    auth: authSchema.default(() => authSchema.parse({})),
  })
  .strict();

/** A validated profile with every default filled in. */
export type Profile = z.infer<typeof profileSchema>;

/** Where the preset profiles live (the repository's `profiles/` folder). */
export const PRESETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'profiles');

/** True when the profile wraps its chat in TLS from the start or after STARTTLS. */
export function usesTls(p: Profile): boolean {
  return p.transport !== 'plain';
}

/** Index of a version in {@link TLS_VERSIONS}; larger is newer. */
export function versionRank(v: TlsVersion): number {
  return TLS_VERSIONS.indexOf(v);
}

/** The object schema at a zod path, through optional/default wrappers (for listing allowed keys). */
function objectKeysAt(schema: z.ZodType, pathParts: PropertyKey[]): string[] | null {
  let s: any = schema;
  const unwrap = () => {
    while (s && s._zod?.def && (s._zod.def.type === 'optional' || s._zod.def.type === 'default' || s._zod.def.type === 'prefault')) s = s._zod.def.innerType;
  };
  unwrap();
  for (const part of pathParts) {
    if (!s?.shape) return null;
    s = s.shape[part as string];
    unwrap();
  }
  return s?.shape ? Object.keys(s.shape) : null;
}

/** Turns zod issues into one readable message per field: the field, what is allowed, what was given. */
function describeIssues(issues: z.core.$ZodIssue[], input: unknown): string[] {
  const valueAt = (p: PropertyKey[]) => p.reduce<any>((o, k) => (o == null ? undefined : o[k as any]), input);
  return issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    const got = JSON.stringify(valueAt(issue.path));
    switch (issue.code) {
      case 'invalid_value': {
        // YAML reads a bare `null` (or `~`) as "no value": say so, since `null` is also a cipher name.
        const hint = got === undefined || got === 'null' ? ' — in YAML write "null" in quotes for the null cipher' : '';
        return `${field}: must be one of ${issue.values.map((v) => String(v)).join(' | ')} (got ${got ?? 'nothing'})${issue.values.includes('null') ? hint : ''}`;
      }
      case 'unrecognized_keys': {
        const allowed = objectKeysAt(profileSchema, issue.path) ?? [];
        const where = issue.path.length ? issue.path.join('.') + '.' : '';
        return `${issue.keys.map((k) => where + k).join(', ')}: unknown key${issue.keys.length > 1 ? 's' : ''}; allowed keys here: ${allowed.join(', ')}`;
      }
      case 'invalid_type':
        return `${field}: expected ${issue.expected} (got ${got ?? 'nothing'})`;
      default:
        return `${field}: ${issue.message} (got ${got})`;
    }
  });
}

/** True when the raw input sets `section.key` explicitly (defaults do not count). */
function isSet(input: unknown, section: string, key?: string): boolean {
  const sec = (input as Record<string, unknown>)[section];
  if (key === undefined) return sec !== undefined;
  return !!sec && typeof sec === 'object' && key in (sec as object);
}

/**
 * Settings written in the file that cannot have any effect: rejected like unknown keys, because a
 * student who writes them believes they protect something.
 */
function ineffectiveSettings(p: Profile, input: unknown): string[] {
  const problems: string[] = [];
  if (p.transport === 'plain') {
    if (isSet(input, 'tls')) problems.push('tls: has no effect with transport: plain (use transport: tls, starttls or starttls-required, or remove the tls section)');
    if (p.client.fallback) problems.push('client.fallback: has no effect with transport: plain (there is no TLS handshake to retry)');
    if (p.channel.keyExchange === 'none' && (isSet(input, 'client', 'verify') || isSet(input, 'client', 'checkHostname') || isSet(input, 'client', 'pin') || isSet(input, 'client', 'ca'))) {
      problems.push('client.verify / checkHostname / pin / ca: have no effect with transport: plain and no secure channel (nothing presents a certificate)');
    }
  }
  if (p.client.verify === 'none' && isSet(input, 'client', 'checkHostname') && p.client.checkHostname) {
    problems.push('client.checkHostname: true has no effect with client.verify: none (nothing is checked); use verify: ca or pin');
  }
  if (p.channel.keyExchange === 'none') {
    const extra = ['ciphers', 'transcriptMac', 'replayProtection', 'replayWindowMs'].filter((k) => isSet(input, 'channel', k));
    if (extra.length) problems.push(`channel.${extra.join(', channel.')}: ${extra.length > 1 ? 'have' : 'has'} no effect with channel.keyExchange: none (the channel is off)`);
  } else if (p.channel.replayProtection !== 'window' && isSet(input, 'channel', 'replayWindowMs')) {
    problems.push(`channel.replayWindowMs: only used with channel.replayProtection: window (it is '${p.channel.replayProtection}')`);
  }
  return problems;
}

/** Checks the rules that span several fields; returns one message per broken rule. */
function crossFieldProblems(p: Profile): string[] {
  const problems: string[] = [];
  if (versionRank(p.tls.minVersion) > versionRank(p.tls.maxVersion)) {
    problems.push(`tls.minVersion (${p.tls.minVersion}) is newer than tls.maxVersion (${p.tls.maxVersion}); allowed: minVersion <= maxVersion`);
  }
  if (p.client.verify === 'pin' && !p.client.pin) {
    problems.push("client.pin: required when client.verify is 'pin' ('server' or 'sha256/<base64>')");
  }
  if (p.client.verify !== 'pin' && p.client.pin) {
    problems.push(`client.pin: only used with client.verify: pin (verify is '${p.client.verify}')`);
  }
  if (p.client.verify !== 'ca' && p.client.ca) {
    problems.push(`client.ca: only used with client.verify: ca (verify is '${p.client.verify}')`);
  }
  if (p.auth.scrypt && p.auth.storage !== 'scrypt') {
    problems.push(`auth.scrypt: only used with auth.storage: scrypt (storage is '${p.auth.storage}')`);
  }
  if (p.auth.pepper && p.auth.method === 'challenge') {
    problems.push('auth.pepper: not possible with auth.method: challenge (the login proof is keyed with the stored value, which the client must be able to compute); use method: password');
  }
  if (p.auth.pepper && p.auth.storage === 'plaintext') {
    problems.push("auth.pepper: has no effect with auth.storage: plaintext (nothing is hashed); use storage: scrypt");
  }
  if (p.tls.ciphersuites && p.tls.ciphersuites.split(':').some((s) => !/^TLS_[A-Z0-9_]+$/.test(s))) {
    problems.push(`tls.ciphersuites: TLS 1.3 suite names look like TLS_AES_128_GCM_SHA256 (got "${p.tls.ciphersuites}")`);
  }
  return problems;
}

/**
 * Validates a parsed profile object.
 * @param input  the object parsed from YAML/JSON
 * @param source where it came from, for the error message (a path or preset name)
 * @returns the profile with defaults filled in
 * @throws UsageError SECCHAT_ERR_PROFILE_INVALID naming every bad field and its allowed values
 */
export function validateProfile(input: unknown, source = 'profile'): Profile {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new UsageError(ERROR_CODES.PROFILE_INVALID, `${source}: a profile must be a YAML mapping (key: value lines)`, { source, problems: ['not a mapping'] });
  }
  const result = profileSchema.safeParse(input);
  const problems = result.success ? [...crossFieldProblems(result.data), ...ineffectiveSettings(result.data, input)] : describeIssues(result.error.issues, input);
  if (problems.length) {
    throw new UsageError(ERROR_CODES.PROFILE_INVALID, `invalid profile ${source}:\n  - ${problems.join('\n  - ')}`, { source, problems });
  }
  return result.data!;
}

/**
 * Parses profile text (YAML 1.2; JSON is valid YAML).
 * @throws UsageError SECCHAT_ERR_PROFILE_INVALID on a syntax error (with line) or invalid content
 */
export function parseProfile(text: string, source = 'profile'): Profile {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new UsageError(ERROR_CODES.PROFILE_INVALID, `${source}: not valid YAML: ${(err as Error).message}`, { source });
  }
  return validateProfile(data, source);
}

/** Names of the preset profiles in `profiles/`, sorted. */
export function listPresets(): string[] {
  if (!existsSync(PRESETS_DIR)) return [];
  return readdirSync(PRESETS_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => f.replace(/\.(ya?ml|json)$/, ''))
    .sort();
}

/**
 * Loads a profile by preset name (`tls-verified`) or by path (`./my.yaml`).
 * A reference that names an existing file is a path; otherwise it is looked up in `profiles/`.
 * @throws UsageError SECCHAT_ERR_PROFILE_NOT_FOUND (listing the presets) or SECCHAT_ERR_PROFILE_INVALID
 */
export function loadProfile(ref: string): Profile {
  const candidates = [ref];
  if (!/[\\/]/.test(ref) && !/\.(ya?ml|json)$/.test(ref)) {
    candidates.push(path.join(PRESETS_DIR, `${ref}.yaml`), path.join(PRESETS_DIR, `${ref}.yml`), path.join(PRESETS_DIR, `${ref}.json`));
  }
  for (const file of candidates) {
    if (existsSync(file)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(ERROR_CODES.PROFILE_NOT_FOUND, `cannot read profile ${file}: ${(err as Error).message}`, { ref });
      }
      return parseProfile(text, file === ref ? ref : `preset ${ref}`);
    }
  }
  throw new UsageError(ERROR_CODES.PROFILE_NOT_FOUND, `no profile "${ref}": not a file, and not a preset (presets: ${listPresets().join(', ')})`, { ref });
}

/**
 * The profile as a file would say it: every setting that takes effect, defaults filled in, and
 * none of the sections {@link validateProfile} would refuse as ineffective. What `profiles show`
 * prints, so its output is itself a valid profile.
 */
export function effectiveSettings(p: Profile): Record<string, unknown> {
  const out: Record<string, unknown> = { name: p.name, description: p.description, transport: p.transport };
  const tlsUsed = p.transport !== 'plain';
  const channelOn = p.channel.keyExchange !== 'none';
  if (tlsUsed) out.tls = p.tls;
  if (tlsUsed || channelOn) {
    const { verify, checkHostname, pin, fallback, ca } = p.client;
    out.client = {
      verify,
      ...(verify !== 'none' ? { checkHostname } : {}),
      ...(pin ? { pin } : {}),
      ...(ca ? { ca } : {}),
      ...(tlsUsed ? { fallback } : {}),
    };
  }
  if (channelOn) {
    const { replayWindowMs, ...rest } = p.channel;
    out.channel = rest.replayProtection === 'window' ? { ...rest, replayWindowMs } : rest;
  }
  out.auth = p.auth;
  return out;
}
