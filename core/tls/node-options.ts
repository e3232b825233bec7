/**
 * Profile → `node:tls` options for both endpoints (versions, cipher list and TLS 1.3 suites, groups,
 * extended master secret RFC 7627), the check that OpenSSL accepts them, and reading what a
 * connected socket negotiated. How the client then verifies the server's certificate:
 * `certificate-verification.ts`.
 */
import tls from 'node:tls';
import { ERROR_CODES, UsageError } from '../errors.ts';
import { type Profile, versionRank } from '../profile.ts';
import { isIpAddress, type ClientTrust } from './certificate-verification.ts';
import { checkTlsCapabilities } from '../tls-capabilities.ts';

/** OpenSSL's SSL_OP_NO_EXTENDED_MASTER_SECRET (OpenSSL 3.0 ssl.h), which node does not export. */
export const SSL_OP_NO_EXTENDED_MASTER_SECRET = 0x1;

/** Certificate and key PEM for a TLS server. */
export interface CertKeyPem {
  certPem: string;
  keyPem: string;
}

/**
 * The TLS 1.2 cipher list used when a profile sets no `tls.ciphers`: forward-secret AEAD suites
 * only — ECDHE with AES-GCM or ChaCha20-Poly1305, the TLS 1.2 part of Mozilla's "intermediate"
 * configuration (https://wiki.mozilla.org/Security/Server_Side_TLS, without its DHE suites).
 * No static-RSA key exchange, no CBC, no SHA-1 MAC. TLS 1.3 suites keep OpenSSL's defaults.
 * Presets that teach a weakness set their weak list explicitly.
 */
export const MODERN_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** True when the profile's range reaches a version OpenSSL 3 refuses at its default security level. */
export function needsSecurityLevel0(p: Profile): boolean {
  return versionRank(p.tls.minVersion) < versionRank('TLSv1.2');
}

/**
 * True when secchat itself appends `@SECLEVEL=0` to the profile's cipher list: the range reaches a
 * version below TLS 1.2 and the profile's own list names no security level (a given `@SECLEVEL`
 * wins, and then nothing is appended).
 */
export function appliesSecurityLevel0(p: Profile): boolean {
  return p.transport !== 'plain' && needsSecurityLevel0(p) && !/@SECLEVEL=/.test(p.tls.ciphers ?? '');
}

/**
 * Notes about how secchat applies the profile's TLS settings (weak choices themselves:
 * core/weaknesses.ts). Only settings actually applied are mentioned.
 */
export function tlsWarnings(p: Profile): string[] {
  const w: string[] = [];
  if (p.transport === 'plain') return w;
  if (appliesSecurityLevel0(p)) {
    w.push(`tls.minVersion ${p.tls.minVersion} is deprecated (RFC 8996); OpenSSL security level 0 is applied on both ends to allow it`);
  }
  return w;
}

/**
 * The cipher string for node's `ciphers` option: TLS <= 1.2 cipher list followed by TLS 1.3
 * suites (node has no `ciphersuites` option; it sorts TLS_* names into SSL_CTX_set_ciphersuites).
 */
export function cipherString(p: Profile): string {
  let list12 = p.tls.ciphers ?? MODERN_TLS12_CIPHERS;
  if (appliesSecurityLevel0(p)) list12 += ':@SECLEVEL=0';
  const suites13 = p.tls.ciphersuites ? p.tls.ciphersuites.split(':') : [];
  return [...suites13, list12].join(':');
}

function commonOptions(p: Profile): tls.SecureContextOptions & { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion } {
  const opts: tls.SecureContextOptions & { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion } = {
    minVersion: p.tls.minVersion,
    maxVersion: p.tls.maxVersion,
    ciphers: cipherString(p),
  };
  if (p.tls.groups) opts.ecdhCurve = p.tls.groups;
  if (!p.tls.extendedMasterSecret) opts.secureOptions = SSL_OP_NO_EXTENDED_MASTER_SECRET;
  return opts;
}

/**
 * Checks that OpenSSL accepts the profile's cipher list, suites and groups, and that every version
 * the profile allows has a suite the (RSA) lab server certificate can use (core/tls-capabilities.ts).
 * @throws UsageError SECCHAT_ERR_PROFILE_INVALID naming the field, with OpenSSL's complaint
 */
export function checkTlsSettings(p: Profile): void {
  if (p.transport === 'plain') return;
  try {
    tls.createSecureContext(commonOptions(p));
  } catch (err) {
    const isGroups = /curve|group/i.test((err as Error).message);
    const field = isGroups ? 'tls.groups' : p.tls.ciphersuites ? 'tls.ciphers / tls.ciphersuites' : 'tls.ciphers';
    const value = isGroups ? p.tls.groups : [p.tls.ciphers, p.tls.ciphersuites].filter(Boolean).join(' / ');
    const where = isGroups ? 'valid groups: X25519, X448, P-256, P-384, P-521, ffdhe2048 … ffdhe8192' : 'see `openssl ciphers -v` for valid names';
    throw new UsageError(ERROR_CODES.PROFILE_INVALID, `invalid profile ${p.name}: ${field}: OpenSSL refused "${value}" (${(err as Error).message.trim()}); ${where}`, { field });
  }
  checkTlsCapabilities(p);
}

/** node:tls server options for the profile with the given certificate. */
export function serverTlsOptions(p: Profile, identity: CertKeyPem): tls.TlsOptions {
  return { ...commonOptions(p), cert: identity.certPem, key: identity.keyPem };
}


/** Client secure contexts by their settings (bounded; a process uses a few profiles × trust lists). */
const clientContexts = new Map<string, tls.SecureContext>();
const MAX_CLIENT_CONTEXTS = 64;

/**
 * One SecureContext per distinct client setting, shared by every connection made with it, as a
 * browser shares one per profile: building it (parsing the CA list, setting the cipher lists)
 * cost ~1 ms of CPU per connection, a tenth of a matrix run's main thread.
 */
function sharedClientContext(opts: tls.SecureContextOptions): tls.SecureContext {
  const id = JSON.stringify(opts);
  let ctx = clientContexts.get(id);
  if (!ctx) {
    ctx = tls.createSecureContext(opts);
    if (clientContexts.size >= MAX_CLIENT_CONTEXTS) clientContexts.delete(clientContexts.keys().next().value as string);
    clientContexts.set(id, ctx);
  }
  return ctx;
}

/** node:tls client options: profile versions/ciphers, our CA list, SNI when the host is a name. */
export function clientTlsOptions(p: Profile, host: string, trust: ClientTrust): tls.ConnectionOptions {
  const context: tls.SecureContextOptions = { ...commonOptions(p), ca: trust.caPems.length ? trust.caPems : undefined };
  const opts: tls.ConnectionOptions = {
    ...context,
    secureContext: sharedClientContext(context),
    rejectUnauthorized: false, // verified by verifyServerCertificate before any data (see file comment)
    checkServerIdentity: () => undefined,
  };
  if (!isIpAddress(host)) opts.servername = host; // RFC 6066 §3: SNI carries no IP literals
  return opts;
}


/** The negotiated TLS parameters of a connected socket (protocol from getProtocol(), RFC 8446 names). */
export interface NegotiatedTls {
  protocol: string | null;
  cipher: string | null;
  /**
   * (EC)DHE group, e.g. X25519; null for RSA key exchange, and on a server socket, where node cannot
   * tell (a proxy reads its victim hop's group from the flight it sent: core/tls/flight-group.ts).
   */
  group: string | null;
}

/** Reads the negotiated protocol, cipher and key-exchange group from a TLS socket. */
export function negotiatedOf(socket: tls.TLSSocket): NegotiatedTls {
  const cipher = socket.getCipher();
  const eph = typeof socket.getEphemeralKeyInfo === 'function' ? socket.getEphemeralKeyInfo() : null;
  const group = eph && typeof eph === 'object' && 'name' in eph && eph.name ? String(eph.name) : eph && 'type' in eph && eph.type === 'DH' ? `DH-${(eph as { size?: number }).size}` : null;
  return { protocol: socket.getProtocol(), cipher: cipher?.standardName ?? cipher?.name ?? null, group };
}
