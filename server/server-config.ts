/**
 * The server's own settings file (`secchat server --config FILE`) and the command-line flags for
 * every server limit, both generated from the one limits definition (`DEFAULT_LIMITS`): a field
 * added there becomes a flag and a config key without being listed again.
 *
 * File format (YAML 1.2; JSON is valid YAML), strict like profiles: unknown keys are refused
 * naming the allowed ones.
 *
 *     limits:
 *       maxConnectionsPerIp: 200
 *       maxLoginAttemptsPerIpPerMinute: 300
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ERROR_CODES, UsageError } from '../core/errors.ts';
import { DEFAULT_LIMITS, validateLimits, type ServerLimits } from './limits.ts';

/** Every limit's field name, in the order of the definition. */
export const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof ServerLimits)[];

/** `maxConnectionsPerIp` → `max-connections-per-ip` (the flag's name without the dashes). */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** The unit a limit is counted in, read from its name's suffix (units live in the names). */
export function limitUnit(key: string): string {
  if (key.endsWith('Ms')) return 'ms';
  if (key.endsWith('Bytes')) return 'bytes';
  if (key.endsWith('Chars')) return 'characters';
  return 'count';
}

const limitsSchema = z.object(Object.fromEntries(LIMIT_KEYS.map((k) => [k, z.number().int().min(1)])) as Record<keyof ServerLimits, z.ZodNumber>).partial().strict();

/** The config file schema (zod, strict). */
export const serverConfigSchema = z.object({ limits: limitsSchema.optional() }).strict();

/** A validated server config file. */
export type ServerConfig = z.infer<typeof serverConfigSchema>;

function configError(source: string, problems: string[]): UsageError {
  return new UsageError(ERROR_CODES.USAGE, `invalid server config ${source}:\n  - ${problems.join('\n  - ')}`, { source, problems });
}

/**
 * Validates a parsed config object.
 * @throws UsageError (exit 2) naming each bad field: unknown keys with the allowed ones, values
 *   that are not whole numbers of at least 1
 */
export function validateServerConfig(input: unknown, source = 'config'): ServerConfig {
  if (input === null || input === undefined) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw configError(source, ['a server config must be a YAML mapping with a limits: section']);
  const r = serverConfigSchema.safeParse(input);
  if (r.success) return r.data;
  throw configError(
    source,
    r.error.issues.map((i) => {
      const field = i.path.join('.') || '(top level)';
      if (i.code === 'unrecognized_keys') {
        const allowed = i.path.length === 0 ? ['limits'] : LIMIT_KEYS;
        const where = i.path.length ? i.path.join('.') + '.' : '';
        return `${i.keys.map((k) => where + k).join(', ')}: unknown key; allowed keys here: ${allowed.join(', ')}`;
      }
      const got = i.path.reduce<any>((o, k) => (o == null ? undefined : o[k as string]), input);
      return `${field}: must be a whole number of at least 1 (got ${JSON.stringify(got)})`;
    }),
  );
}

/**
 * Reads and validates a config file.
 * @throws UsageError (exit 2) when the file cannot be read, is not YAML, or is invalid
 */
export function loadServerConfig(file: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(ERROR_CODES.USAGE, `--config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { field: '--config' });
  }
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new UsageError(ERROR_CODES.USAGE, `--config ${file}: not valid YAML: ${(err as Error).message}`, { field: '--config' });
  }
  return validateServerConfig(data, file);
}

/**
 * The limits a server runs with: defaults, then the config file, then flags (most specific wins),
 * checked as a whole.
 * @throws UsageError (exit 2) when the combination is impossible (validateLimits' reasons, with
 *   the fields' flag names)
 */
export function resolveLimits(fromConfig: Partial<ServerLimits> = {}, fromFlags: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_LIMITS, ...fromConfig, ...fromFlags };
  try {
    validateLimits(limits);
  } catch (err) {
    const msg = (err as Error).message.replace(/\b(max|min|handshake|login|idle|challenge)[A-Za-z]+\b/g, (k) => (LIMIT_KEYS.includes(k as keyof ServerLimits) ? `${k} (--${kebabCase(k)})` : k));
    throw new UsageError(ERROR_CODES.USAGE, `server limits: ${msg}`, { field: 'limits' });
  }
  return limits;
}
