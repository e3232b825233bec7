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
import { ERROR_CODES, SecchatError } from './errors.ts';

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
const SERVER_NAMES = { commonName: 'localhost', organization: 'secchat lab', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

/** The six certificates, issuers first: what each one is and who signs it (`null` = itself). */
const ROLE_SPECS: ReadonlyArray<{ role: PkiRole; issuer: PkiRole | null; isCa?: boolean; names: Omit<IssueOptions, 'notBefore' | 'notAfter'> }> = [
  { role: 'ca', issuer: null, isCa: true, names: LAB_CA },
  { role: 'rogueCa', issuer: null, isCa: true, names: ROGUE_CA },
  { role: 'server', issuer: 'ca', names: SERVER_NAMES },
  { role: 'attackerSelfSigned', issuer: null, names: SERVER_NAMES },
  { role: 'attackerWrongHost', issuer: 'ca', names: { commonName: 'evil.example', dnsNames: ['evil.example'] } },
  { role: 'attackerRogue', issuer: 'rogueCa', names: SERVER_NAMES },
];

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
 * @returns `created: false` when every file already existed and was left untouched
 * @throws SecchatError(PKI) when some but not all files exist (naming the missing ones; pass
 *   --force), for a bad option, or when the directory or a file cannot be written
 */
export async function initPki(opts: { dir: string; force?: boolean; keyType?: KeyType; now?: Date }): Promise<{ dir: string; created: boolean }> {
  const { dir, force = false, keyType = 'rsa-2048', now = new Date() } = opts;
  if (Number.isNaN(now.getTime())) throw pkiError('initPki: now is not a valid date');
  if (!Object.hasOwn(KEY_TYPES, keyType)) throw pkiError(`initPki: keyType must be one of ${Object.keys(KEY_TYPES).join(', ')}`, { keyType });
  const missing = allFiles().filter((name) => !existsSync(path.join(dir, name)));
  if (!force && missing.length === 0) return { dir, created: false };
  if (!force && missing.length < allFiles().length) {
    throw pkiError(`PKI directory ${dir} is incomplete (missing ${missing.join(', ')}); pass --force to regenerate all of it`, { dir, missing });
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
  for (const spec of ROLE_SPECS) {
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
    throw pkiError(`lab PKI in ${dir} is not usable (${parts.filter(Boolean).join('; ')}); run \`secchat pki init\` (add --force to replace a partial one)`, { dir, missing, unreadable });
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
