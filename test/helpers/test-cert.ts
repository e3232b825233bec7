/**
 * A throwaway RSA-2048 self-signed certificate for loopback TLS tests, made once per process
 * with the `openssl` CLI (native key generation: node-forge takes seconds for 2048 bits).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCert {
  /** PEM private key (PKCS#8, as `openssl req -newkey` writes it). */
  keyPem: string;
  certPem: string;
  /** Directory holding key.pem and cert.pem, for tools that want files (tshark). */
  dir: string;
  keyPath: string;
  certPath: string;
}

let cached: TestCert | undefined;

/** The process-wide test certificate for CN=localhost, valid one day. Files are removed at exit. */
export function rsaTestCert(): TestCert {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(tmpdir(), 'secchat-cert-'));
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyPath, '-out', certPath], {
    stdio: 'ignore',
  });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  cached = { keyPem: readFileSync(keyPath, 'utf8'), certPem: readFileSync(certPath, 'utf8'), dir, keyPath, certPath };
  return cached;
}
