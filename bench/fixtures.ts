/**
 * What every benchmark shares: a throw-away lab PKI (RSA-2048 leaf, plus an RSA-4096 leaf from
 * the same CA), the benchmark profile, and the server limits raised for load from one address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initPki, issueCertificate, loadPki, LEAF_VALIDITY_DAYS, NOT_BEFORE_BACKDATE_MS } from '../core/pki.ts';
import { validateProfile, type Profile } from '../core/profile.ts';
import { resolveTrust } from '../core/tls/certificate-verification.ts';
import { clientTlsOptions, type CertKeyPem } from '../core/tls/node-options.ts';
import type { ServerLimits } from '../server/chat-server.ts';
import type tls from 'node:tls';

/** Certificates for the benchmark servers, in a temporary folder. */
export interface BenchPki {
  dir: string;
  ca: CertKeyPem;
  /** Leaf for localhost / 127.0.0.1 with an RSA-2048 key. */
  rsa2048: CertKeyPem;
  /** Same names, RSA-4096 key, same CA. */
  rsa4096: CertKeyPem;
  /** Deletes the folder. */
  cleanup(): void;
}

/** Server key sizes the benchmark compares. */
export type BenchKey = 'rsa2048' | 'rsa4096';

/**
 * Creates the benchmark PKI (a few seconds: one RSA-4096 key).
 * @throws SecchatError(PKI) if the temporary folder cannot be written
 */
export async function makeBenchPki(): Promise<BenchPki> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-bench-pki-'));
  try {
    await initPki({ dir });
    const pki = loadPki(dir);
    const notBefore = new Date(Date.now() - NOT_BEFORE_BACKDATE_MS);
    const rsa4096 = issueCertificate({
      issuer: pki.ca,
      commonName: 'localhost',
      organization: 'secchat lab',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      keyType: 'rsa-4096',
      notBefore,
      notAfter: new Date(notBefore.getTime() + LEAF_VALIDITY_DAYS * 86_400_000),
    });
    return { dir, ca: pki.ca, rsa2048: pki.server, rsa4096, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A benchmark profile: verified TLS with the given `tls` settings. Passwords are stored as
 * unsalted SHA-256 — not to be copied: logins are set-up, not measured, and scrypt's deliberate
 * ~50 ms per login would make logging in 1,000 clients take most of a minute on two cores.
 */
export function benchProfile(name: string, tlsSettings: Record<string, unknown> = {}): Profile {
  return validateProfile({ name, transport: 'tls', tls: tlsSettings, client: { verify: 'ca', checkHostname: true }, auth: { storage: 'sha256' } }, `benchmark profile ${name}`);
}

/** Client TLS options for a benchmark profile: trusts the bench CA, checks "localhost". */
export function benchClientTls(profile: Profile, pki: BenchPki): tls.ConnectionOptions {
  return clientTlsOptions(profile, 'localhost', resolveTrust(profile, pki.ca.certPem, pki.rsa2048.certPem));
}

/**
 * Limits for the benchmark server. Every load client connects from 127.0.0.1, so the per-address
 * caps (16 connections, 30 logins a minute) would stop the benchmark at its 17th client; they are
 * raised here and nowhere else. Everything else stays at its default.
 */
export const BENCH_LIMITS: Partial<ServerLimits> = {
  maxConnections: 10_000,
  maxConnectionsPerIp: 10_000,
  maxLoginAttemptsPerIpPerMinute: 1_000_000,
};
