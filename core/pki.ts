/**
 * The lab PKI: X.509 v3 certificates (RFC 5280) for the chat server and for the attacks against it.
 *
 * One directory of PEM files holds a lab root CA, the genuine server leaf it issued, and four
 * certificates an attacker would present: a self-signed copy of the server's identity, a genuine
 * lab-issued leaf for the wrong host, and a leaf issued by a rogue root CA. Certificates are built
 * and signed with node-forge (sha256WithRSAEncryption); RSA keys come from `node:crypto`, because
 * forge's pure-JS key generation takes seconds per key.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import forge from 'node-forge';
import { ERROR_CODES, SecchatError, UsageError } from './errors.ts';
import { distinguishedNameText } from './tls/distinguished-name.ts';

/** Where the CLI keeps the lab PKI, relative to the working directory. */
export const DEFAULT_PKI_DIR = '.secchat/pki';

/** Root CAs live ten years: a lab install should outlast a course without re-trusting a new root. */
export const CA_VALIDITY_DAYS = 3650;
/**
 * Leaves live 825 days: Apple platforms reject TLS server certificates valid longer than that even
 * when they chain to a user-installed root (CA/Browser Forum Baseline Requirements limit of 2018;
 * publicly trusted CAs are now held to 398 days, which does not apply to a private lab root).
 */
export const LEAF_VALIDITY_DAYS = 825;
/** notBefore is backdated one day: lab VMs restored from snapshots often run hours behind. */
export const NOT_BEFORE_BACKDATE_MS = 24 * 60 * 60 * 1000;
/** Serial numbers: 16 random bytes, high bit cleared so the DER INTEGER stays positive (RFC 5280 §4.1.2.2). */
export const SERIAL_BYTES = 16;

/** RSA modulus length in bits for each supported key type. */
export const KEY_TYPES = { 'rsa-2048': 2048, 'rsa-4096': 4096 } as const;
export type KeyType = keyof typeof KEY_TYPES;

/** File names of every certificate and key in the PKI directory, by role. */
export const PKI_FILES = {
  ca: { cert: 'ca.crt', key: 'ca.key' },
  server: { cert: 'server.crt', key: 'server.key' },
  attackerSelfSigned: { cert: 'attacker-self-signed.crt', key: 'attacker-self-signed.key' },
  attackerWrongHost: { cert: 'attacker-wrong-host.crt', key: 'attacker-wrong-host.key' },
  rogueCa: { cert: 'rogue-ca.crt', key: 'rogue-ca.key' },
  attackerRogue: { cert: 'attacker-rogue.crt', key: 'attacker-rogue.key' },
} as const;
export type PkiRole = keyof typeof PKI_FILES;

/** A certificate and its private key, as PEM text and as the paths they were read from. */
export interface CertKeyPair { certPem: string; keyPem: string; certPath: string; keyPath: string }
/** Every role's certificate and key, plus the directory they live in. */
export type PkiMaterial = { dir: string } & Record<PkiRole, CertKeyPair>;

/** What {@link issueCertificate} needs: validity in absolute dates, names, and who signs. */
export interface IssueOptions {
  /** Signing CA; `null` or omitted = self-signed with the new key. Any cert/key pair is accepted (attacks may sign with a leaf). */
  issuer?: Pick<CertKeyPair, 'certPem' | 'keyPem'> | null;
  commonName: string;
  /** Subject organization (O); omitted = subject holds the CN only. */
  organization?: string;
  /** SAN dNSName entries (RFC 5280 §4.2.1.6). Default none. */
  dnsNames?: string[];
  /** SAN iPAddress entries, IPv4 or IPv6 text. Default none. */
  ipAddresses?: string[];
  /** CA certificate (keyCertSign, cRLSign) instead of a TLS server leaf. Default false. */
  isCa?: boolean;
  notBefore: Date;
  notAfter: Date;
  /** Default 'rsa-2048'. */
  keyType?: KeyType;
}

const ROLES = Object.keys(PKI_FILES) as PkiRole[];
const LAB_CA = { commonName: 'secchat Lab Root CA', organization: 'secchat lab' };
const ROGUE_CA = { commonName: 'Rogue Interception CA', organization: 'Rogue Interception Ltd' };
/** Names every lab server certificate carries, so loopback labs and attacks work on any install. */
export const DEFAULT_SERVER_NAMES: readonly string[] = ['localhost', '127.0.0.1'];

/**
 * The server identity's subject and SAN for the given names: host names as dNSName entries,
 * addresses as iPAddress entries (RFC 5280 §4.2.1.6; RFC 6125 §6.2.1: an IP is never matched
 * against a dNSName). The defaults come first, duplicates are dropped.
 */
function serverNames(extra: readonly string[]): Omit<IssueOptions, 'notBefore' | 'notAfter'> {
  const all = [...new Set([...DEFAULT_SERVER_NAMES, ...extra])];
  return { commonName: 'localhost', organization: 'secchat lab', dnsNames: all.filter((n) => isIP(n) === 0), ipAddresses: all.filter((n) => isIP(n) !== 0) };
}

/**
 * The six certificates, issuers first: what each one is and who signs it (`null` = itself). The
 * attacker's self-signed and rogue-root leaves copy every name of the genuine server: the
 * strongest forgery, so only the chain can give it away.
 */
function roleSpecs(names: readonly string[]): ReadonlyArray<{ role: PkiRole; issuer: PkiRole | null; isCa?: boolean; names: Omit<IssueOptions, 'notBefore' | 'notAfter'> }> {
  const server = serverNames(names);
  return [
    { role: 'ca', issuer: null, isCa: true, names: LAB_CA },
    { role: 'rogueCa', issuer: null, isCa: true, names: ROGUE_CA },
    { role: 'server', issuer: 'ca', names: server },
    { role: 'attackerSelfSigned', issuer: null, names: server },
    { role: 'attackerWrongHost', issuer: 'ca', names: { commonName: 'evil.example', dnsNames: ['evil.example'] } },
    { role: 'attackerRogue', issuer: 'rogueCa', names: server },
  ];
}

/**
 * Checks names for `pki init --name`: a DNS host name (letters, digits, hyphens, dots; a `*.`
 * wildcard first label allowed) or an IPv4/IPv6 address.
 * @throws UsageError naming the bad value and what is allowed
 */
export function checkServerNames(names: readonly string[]): void {
  const bad = names.filter((n) => isIP(n) === 0 && !/^(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(n));
  if (bad.length > 0) {
    throw new UsageError(ERROR_CODES.USAGE, `--name: ${bad.map((b) => JSON.stringify(b)).join(', ')} is neither a host name (letters, digits, "-" and ".") nor an IP address`, { field: 'name', bad });
  }
}

/** The SAN of a certificate, split by kind (RFC 5280 §4.2.1.6). */
export interface CertificateNames {
  /** dNSName entries, as written. */
  dns: string[];
  /** iPAddress entries, as node prints them (IPv6 in full lower-case hex groups). */
  ip: string[];
}

/**
 * The subjectAltName entries of a certificate.
 * @throws SecchatError(PKI) if `certPem` is not a readable certificate
 */
export function certificateNames(certPem: string): CertificateNames {
  let san: string | undefined;
  try {
    san = new X509Certificate(certPem).subjectAltName;
  } catch (err) {
    throw pkiError('certificateNames: not a readable PEM certificate', {}, err);
  }
  const out: CertificateNames = { dns: [], ip: [] };
  // node prints "DNS:a, IP Address:1.2.3.4"; a comma inside a name would be quoted, lab names have none.
  for (const entry of (san ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) out.dns.push(entry.slice(4));
    else if (entry.startsWith('IP Address:')) out.ip.push(entry.slice(11));
  }
  return out;
}

/**
 * Whether a certificate is valid for `host` the way a client checks it (RFC 6125 §6.4 via
 * OpenSSL's X509_check_host / X509_check_ip: SANs only; an address only against iPAddress).
 */
export function certificateCovers(certPem: string, host: string): boolean {
  const cert = new X509Certificate(certPem);
  return isIP(host) !== 0 ? cert.checkIP(host) !== undefined : cert.checkHost(host, { subject: 'never' }) !== undefined;
}

function pkiError(message: string, details: Record<string, unknown> = {}, cause?: unknown): SecchatError {
  return new SecchatError(ERROR_CODES.PKI, message, details, cause === undefined ? undefined : { cause });
}

/** 16 random bytes as hex, first byte in 0x01..0x7f: positive and minimally DER-encoded (no 0x00 pad). */
function randomSerialHex(): string {
  for (;;) {
    const bytes = randomBytes(SERIAL_BYTES);
    bytes[0]! &= 0x7f;
    if (bytes[0] !== 0) return bytes.toString('hex');
  }
}

/**
 * Issue one X.509 v3 certificate with a fresh RSA key, signed with SHA-256 (RFC 5280 §4.1; the
 * single signing path behind every certificate in the lab PKI). Extensions, per RFC 5280 §4.2.1:
 * basicConstraints (critical), keyUsage (critical: keyCertSign+cRLSign for a CA,
 * digitalSignature+keyEncipherment for a leaf), extKeyUsage serverAuth (leaves), subjectAltName
 * (when names are given), subjectKeyIdentifier (method 1: SHA-1 of the public key) and
 * authorityKeyIdentifier (the issuer's subjectKeyIdentifier).
 *
 * Dates are used as given, so tests and attacks can make expired or not-yet-valid certificates.
 * @returns PEM certificate and PKCS#8 PEM private key, in memory only
 * @throws SecchatError(PKI) for an empty CN, notAfter not after notBefore, a malformed IP address,
 *   an unknown key type, or an issuer whose PEM is unreadable or whose key does not match its cert
 * @example issueCertificate({ commonName: 'localhost', dnsNames: ['localhost'], notBefore: past, notAfter: yesterday })
 */
export function issueCertificate(opts: IssueOptions): { certPem: string; keyPem: string } {
  const { issuer = null, commonName, organization, dnsNames = [], ipAddresses = [], isCa = false, notBefore, notAfter, keyType = 'rsa-2048' } = opts;
  if (!commonName) throw pkiError('issueCertificate: commonName must not be empty');
  if (!(notBefore.getTime() < notAfter.getTime())) {
    throw pkiError(`issueCertificate: notAfter (${String(notAfter)}) must be after notBefore (${String(notBefore)})`, { notBefore, notAfter });
  }
  const badIps = ipAddresses.filter((ip) => isIP(ip) === 0);
  if (badIps.length > 0) throw pkiError(`issueCertificate: not an IP address: ${badIps.join(', ')}`, { ipAddresses: badIps });
  if (!Object.hasOwn(KEY_TYPES, keyType)) throw pkiError(`issueCertificate: keyType must be one of ${Object.keys(KEY_TYPES).join(', ')}`, { keyType });

  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: KEY_TYPES[keyType],
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const subject = [{ shortName: 'CN', value: commonName }, ...(organization ? [{ shortName: 'O', value: organization }] : [])];
  cert.setSubject(subject);

  let signingKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  let authorityKeyId: string | true = true; // self-signed: the key identifier is our own
  if (issuer === null) {
    cert.setIssuer(subject);
  } else {
    let issuerCert: forge.pki.Certificate;
    try {
      issuerCert = forge.pki.certificateFromPem(issuer.certPem);
      signingKey = forge.pki.privateKeyFromPem(issuer.keyPem) as forge.pki.rsa.PrivateKey;
    } catch (err) {
      throw pkiError('issueCertificate: issuer certificate or key is not readable RSA PEM', {}, err);
    }
    if (!(issuerCert.publicKey as forge.pki.rsa.PublicKey).n.equals(signingKey.n)) {
      throw pkiError('issueCertificate: issuer key does not match issuer certificate');
    }
    cert.setIssuer(issuerCert.subject.attributes);
    const ski = issuerCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
    authorityKeyId = ski?.subjectKeyIdentifier ? forge.util.hexToBytes(ski.subjectKeyIdentifier) : issuerCert.generateSubjectKeyIdentifier().getBytes();
  }

  const altNames = [...dnsNames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))];
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: isCa },
    isCa
      ? { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true }
      : { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    ...(isCa ? [] : [{ name: 'extKeyUsage', serverAuth: true }]),
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
  ]);
  cert.sign(signingKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}

/** Write via a fresh temp file and rename, so a key file never exists, even briefly, with a wider mode. */
function writeFileAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    chmodSync(tmp, mode); // the umask may have narrowed it; make it exact
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw pkiError(`cannot write ${file}`, { file }, err);
  }
}

function allFiles(): string[] {
  return ROLES.flatMap((role) => [PKI_FILES[role].cert, PKI_FILES[role].key]);
}

/**
 * Create the lab PKI in `dir` unless it is already complete.
 * @param opts.dir     directory; created with mode 0700 if missing
 * @param opts.force   regenerate all twelve files even if present. Default false
 * @param opts.keyType RSA key size for every key. Default 'rsa-2048'
 * @param opts.now     clock for validity periods. Default the current time
 * @param opts.names   host names and IP addresses the server certificate names besides
 *   {@link DEFAULT_SERVER_NAMES} (SAN dNSName / iPAddress). Default none
 * @returns `created: false` when every file already existed and was left untouched
 * @throws SecchatError(PKI) when some but not all files exist (naming the missing ones and
 *   `secchat pki init --force`), when the existing server certificate lacks a requested name, for
 *   a bad option, or when the directory or a file cannot be written; UsageError for a bad name
 */
export async function initPki(opts: { dir: string; force?: boolean; keyType?: KeyType; now?: Date; names?: readonly string[] }): Promise<{ dir: string; created: boolean }> {
  const { dir, force = false, keyType = 'rsa-2048', now = new Date(), names = [] } = opts;
  if (Number.isNaN(now.getTime())) throw pkiError('initPki: now is not a valid date');
  if (!Object.hasOwn(KEY_TYPES, keyType)) throw pkiError(`initPki: keyType must be one of ${Object.keys(KEY_TYPES).join(', ')}`, { keyType });
  checkServerNames(names);
  const missing = allFiles().filter((name) => !existsSync(path.join(dir, name)));
  if (!force && missing.length === 0) {
    // Reusing a certificate that lacks an asked-for name would only fail later, at every client.
    const serverPem = readFileSync(path.join(dir, PKI_FILES.server.cert), 'utf8');
    const lacking = names.filter((n) => !certificateCovers(serverPem, n));
    if (lacking.length > 0) {
      throw pkiError(`the server certificate in ${dir} does not name ${lacking.join(', ')}; run \`secchat pki init --force${names.map((n) => ` --name ${n}`).join('')}\` to issue a new one (students then need the new CA file)`, { dir, lacking });
    }
    return { dir, created: false };
  }
  if (!force && missing.length < allFiles().length) {
    throw pkiError(`PKI directory ${dir} is incomplete (missing ${missing.join(', ')}); run \`secchat pki init --force\` to regenerate all of it`, { dir, missing });
  }

  try {
    if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700);
  } catch (err) {
    throw pkiError(`cannot create PKI directory ${dir}`, { dir }, err);
  }
  // Validity periods are inclusive of both ends (RFC 5280 §4.1.2.5), hence the one second off.
  const notBefore = new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS);
  const until = (days: number): Date => new Date(notBefore.getTime() + days * 86_400_000 - 1000);
  const issued = {} as Record<PkiRole, { certPem: string; keyPem: string }>;
  for (const spec of roleSpecs(names)) {
    issued[spec.role] = issueCertificate({
      ...spec.names,
      issuer: spec.issuer === null ? null : issued[spec.issuer],
      isCa: spec.isCa ?? false,
      keyType,
      notBefore,
      notAfter: until(spec.isCa ? CA_VALIDITY_DAYS : LEAF_VALIDITY_DAYS),
    });
  }
  for (const role of ROLES) {
    writeFileAtomic(path.join(dir, PKI_FILES[role].key), issued[role].keyPem, 0o600);
    writeFileAtomic(path.join(dir, PKI_FILES[role].cert), issued[role].certPem, 0o644);
  }
  return { dir, created: true };
}

/**
 * Read and check every certificate and key of the lab PKI.
 * @returns each role's PEM text and paths
 * @throws SecchatError(PKI) naming every missing or unreadable file (bad PEM, or a key that does
 *   not match its certificate), telling the user to run `secchat pki init`
 */
export function loadPki(dir: string): PkiMaterial {
  const missing: string[] = [];
  const unreadable: string[] = [];
  const read = (name: string): string => {
    try {
      return readFileSync(path.join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing.push(name);
      else unreadable.push(`${name} (${(err as Error).message})`);
      return '';
    }
  };
  const material = { dir } as PkiMaterial;
  for (const role of ROLES) {
    const { cert, key } = PKI_FILES[role];
    const pair: CertKeyPair = { certPem: read(cert), keyPem: read(key), certPath: path.join(dir, cert), keyPath: path.join(dir, key) };
    if (pair.certPem && pair.keyPem) {
      try {
        if (!new X509Certificate(pair.certPem).checkPrivateKey(createPrivateKey(pair.keyPem))) unreadable.push(`${key} (does not match ${cert})`);
      } catch (err) {
        unreadable.push(`${cert}/${key} (${(err as Error).message})`);
      }
    }
    material[role] = pair;
  }
  if (missing.length > 0 || unreadable.length > 0) {
    const parts = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', unreadable.length > 0 ? `unreadable ${unreadable.join(', ')}` : ''];
    throw pkiError(`lab PKI in ${dir} is not usable (${parts.filter(Boolean).join('; ')}); run \`secchat pki init\` (\`secchat pki init --force\` replaces a partial one)`, { dir, missing, unreadable });
  }
  return material;
}

/**
 * Create the lab PKI in `dir` if it is missing, then load it.
 * @throws SecchatError(PKI) as {@link initPki} and {@link loadPki} do (a partial directory is not repaired)
 */
export async function ensurePki(dir: string): Promise<PkiMaterial> {
  await initPki({ dir });
  return loadPki(dir);
}

/**
 * HTTP Public Key Pinning style pin of a certificate's key (RFC 7469 §2.4): `sha256/` followed by
 * the base64 SHA-256 of the DER SubjectPublicKeyInfo. The pin survives re-issuing a cert for the same key.
 * @throws SecchatError(PKI) if `certPem` is not a readable certificate
 * @example spkiPin(readFileSync('server.crt', 'utf8')) // 'sha256/…43 base64 chars…='
 */
export function spkiPin(certPem: string): string {
  let spki: Buffer;
  try {
    spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw pkiError('spkiPin: not a readable PEM certificate', {}, err);
  }
  return `sha256/${createHash('sha256').update(spki).digest('base64')}`;
}

/**
 * What a client needs to verify the class server, and nothing more: the lab CA certificate
 * (public; never a key), copied to `out`, with its SHA-256 fingerprint for comparing aloud.
 * @param dir the lab PKI folder (must hold ca.crt)
 * @param out where to write the PEM (mode 0644); omitted = write nothing
 * @returns the PEM text, the fingerprint as colon-separated upper-case hex (what
 *   `openssl x509 -noout -fingerprint -sha256` prints) and the subject
 * @throws SecchatError(PKI) when ca.crt is missing or not a CA certificate, or `out` cannot be written
 */
export function exportCa(dir: string, out?: string): { certPem: string; fingerprint256: string; subject: string } {
  const file = path.join(dir, PKI_FILES.ca.cert);
  let certPem: string;
  try {
    certPem = readFileSync(file, 'utf8');
  } catch (err) {
    throw pkiError(`no lab CA at ${file}; run \`secchat pki init\` first`, { file }, err);
  }
  const cert = readCertificate(certPem, file);
  if (!cert.ca) throw pkiError(`${file} is not a CA certificate`, { file });
  // Only the certificate block leaves the folder, whatever else someone appended to the file.
  const pem = cert.toString();
  if (out !== undefined) writeFileAtomic(out, pem, 0o644);
  return { certPem: pem, fingerprint256: cert.fingerprint256, subject: distinguishedNameText(cert.subject) };
}

/**
 * Reads a trust anchor file for a client (`--ca FILE`, `client.ca`): one or more CA
 * certificates in PEM, no private key.
 * @param source how the user named it (`--ca` or `client.ca`), for the error message
 * @returns the PEM certificates, one per entry
 * @throws UsageError naming `source` when the file is missing, holds no certificate, holds a
 *   private key, or holds a certificate that is not a CA
 */
export function loadTrustAnchors(file: string, source: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(ERROR_CODES.USAGE, `${source} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ask for the CA file the server's owner wrote with \`secchat pki export-ca\``, { field: source, file });
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new UsageError(ERROR_CODES.USAGE, `${source} ${file}: holds a private key; a client needs only the CA certificate (\`secchat pki export-ca\` writes it) — keep the key on the server`, { field: source, file });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new UsageError(ERROR_CODES.USAGE, `${source} ${file}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)`, { field: source, file });
  for (const b of blocks) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(b);
    } catch (err) {
      throw new UsageError(ERROR_CODES.USAGE, `${source} ${file}: unreadable certificate (${(err as Error).message})`, { field: source, file });
    }
    if (!cert.ca) throw new UsageError(ERROR_CODES.USAGE, `${source} ${file}: ${distinguishedNameText(cert.subject)} is not a CA certificate; pass the CA file (\`secchat pki export-ca\`), not the server's certificate`, { field: source, file });
  }
  return blocks.map((b) => b + '\n');
}

function readCertificate(pem: string, file: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw pkiError(`${file} is not a readable PEM certificate`, { file }, err);
  }
}
