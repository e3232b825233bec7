/**
 * What every command shares: default paths, loading a profile with its warnings, output streams.
 */
import { InvalidArgumentError, Option } from 'commander';
import { ensurePki, issueCertificate, loadPki, DEFAULT_PKI_DIR, type PkiMaterial } from '../core/pki.ts';
import { checkTlsHandshakes } from '../core/tls-capabilities.ts';
import type { CertKeyPem } from '../core/tls/node-options.ts';
import { loadProfile, type Profile } from '../core/profile.ts';
import { checkTlsSettings } from '../core/tls/node-options.ts';
import { warningsFor } from '../core/weaknesses.ts';
import type { CliIo } from './io.ts';

// The streams live in cli/io.ts (loadable without the PKI); commands import them from here.
export { processIo, type CliIo } from './io.ts';
import { isUnpassedLabProfile } from '../labs/progress.ts';

/** Default SQLite file of the accounts. */
export const DEFAULT_DB_FILE = '.secchat/users.db';

/** `--pki DIR` option. */
export const pkiOption = () => new Option('--pki <dir>', 'lab PKI folder (created on first use)').default(DEFAULT_PKI_DIR);
/** `--db FILE` option. */
export const dbOption = () => new Option('--db <file>', 'SQLite accounts file (created on first use)').default(DEFAULT_DB_FILE);
/** `--profile P` option. */
export const profileOption = () => new Option('-p, --profile <profile>', 'preset name (see `secchat profiles`) or path to a YAML/JSON profile').makeOptionMandatory();

/**
 * Loads and fully checks a profile (schema and OpenSSL settings) and prints its warnings.
 * @throws UsageError (exit 2) naming the field and allowed values
 */
export function loadCheckedProfile(ref: string, io: CliIo, opts: { quiet?: boolean } = {}): Profile {
  const p = loadProfile(ref);
  checkTlsSettings(p);
  // A lab's working profile gets no fix in its warnings until the lab is passed: the fix is the answer.
  const fix = !isUnpassedLabProfile(ref);
  if (!opts.quiet) for (const w of warningsFor(p, { fix })) io.err(`warning: ${p.name}: ${w}\n`);
  return p;
}

/**
 * Refuses a profile whose allowed TLS versions cannot complete a handshake with the server
 * certificate (one real loopback handshake per version; core/tls-capabilities.ts).
 * @param identity the server certificate; default the lab PKI's in `pkiDir`, or a throwaway
 *   RSA-2048 certificate (the lab's key type) when that PKI does not exist yet
 * @throws UsageError SECCHAT_ERR_PROFILE_INVALID (exit 2) naming the field and OpenSSL's reason
 */
export async function checkProfileHandshakes(p: Profile, identity?: CertKeyPem, pkiDir = DEFAULT_PKI_DIR): Promise<void> {
  if (p.transport === 'plain') return;
  let id = identity;
  if (!id) {
    try {
      id = loadPki(pkiDir).server;
    } catch {
      const now = Date.now();
      id = issueCertificate({ commonName: 'localhost', dnsNames: ['localhost'], notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) });
    }
  }
  await checkTlsHandshakes(p, id);
}

/** The lab PKI, created if missing (with a note on stderr). */
export async function pkiFor(dir: string, io: CliIo): Promise<PkiMaterial> {
  const { existsSync } = await import('node:fs');
  const path = await import('node:path');
  if (!existsSync(path.join(dir, 'ca.crt'))) io.err(`creating the lab PKI in ${dir} (first use)…\n`);
  return ensurePki(dir);
}

/** Parses a port number option. @throws InvalidArgumentError (commander: exit 2) */
export function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`a port is an integer from 0 to 65535 (got "${v}")`);
  return n;
}

/** Parses a positive integer option (counts). @throws InvalidArgumentError (commander: exit 2) */
export function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number of at least 1 (got "${v}")`);
  return n;
}

/**
 * `--crack-budget <core-hours>`: the password thief's budget in CPU-core hours (default 24: one
 * core for one day), parsed to core-seconds.
 * @throws InvalidArgumentError (commander: exit 2) naming the allowed values
 */
export const crackBudgetOption = () =>
  new Option('--crack-budget <core-hours>', "the password thief's budget, in CPU-core hours (1 core for 1 day = 24; 1000 cores for a week = 168000)")
    .default(24 * 3600, '24 (one core, one day)')
    .argParser((v: string) => {
      const n = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0) || n > 1e9) throw new InvalidArgumentError(`expected a positive number of CPU-core hours, at most 1e9 (got "${v}")`);
      return n * 3600;
    });
