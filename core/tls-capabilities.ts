/**
 * A profile's effective TLS capabilities, computed by OpenSSL: which protocol versions and which
 * cipher suites a server with this profile can negotiate, each suite with the properties that
 * matter (key exchange, authentication, bulk cipher, MAC, AEAD, forward secrecy).
 *
 * Why OpenSSL and not the text of `tls.ciphers`: an OpenSSL cipher string is a small language
 * (`HIGH`, `DEFAULT`, `kRSA+AESGCM`, `!aNULL`, `@SECLEVEL=1`...). Only OpenSSL knows what it
 * expands to, and the security level removes further suites. So the string node would be given
 * ({@link cipherString}, split the way node splits it: `TLS_*` names are TLS 1.3 suites, the rest
 * the TLS <= 1.2 list) is handed to `openssl ciphers -V -stdname -s`, which prints the suites
 * OpenSSL enables at the effective security level with its own Kx/Au/Enc/Mac description
 * (openssl-ciphers(1)). What is left to secchat is only what a suite *is*: a suite authenticated by
 * an ECDSA key cannot run with an RSA certificate (RFC 8422 §2), and PSK/SRP suites need secrets
 * secchat never configures.
 *
 * Handshake-time refusals that the cipher list cannot show (OpenSSL 3 refusing TLS 1.0 at
 * security level 1 when it signs) are checked by {@link checkTlsHandshakes} with real handshakes.
 *
 * Caches: one `openssl` run per distinct (cipher list, TLS 1.3 suites) pair per process (~5 ms).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import net from 'node:net';
import { ERROR_CODES, SecchatError, UsageError } from './errors.ts';
import { TLS_VERSIONS, versionRank, type Profile, type TlsVersion } from './profile.ts';
import { cipherString, serverTlsOptions, type CertKeyPem } from './tls/node-options.ts';

/** Versions in the order OpenSSL's `ciphers -v` names a suite's minimum protocol. */
const OPENSSL_MIN_PROTOCOLS = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/** The key type of the server certificate, which decides which suites can authenticate it. */
export type ServerKeyType = 'rsa' | 'ec' | 'ed25519' | 'ed448' | 'dsa';

/** One cipher suite as OpenSSL describes it, with the properties secchat warns about. */
export interface SuiteInfo {
  /** wire value, e.g. 0xc02f */
  id: number;
  /** IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
  iana: string;
  /** OpenSSL name, e.g. ECDHE-RSA-AES128-GCM-SHA256 */
  openssl: string;
  /** oldest protocol the suite runs on, in OpenSSL's words: SSLv3 (= TLS 1.0 and later), TLSv1, TLSv1.2, TLSv1.3 */
  minProtocol: string;
  /** OpenSSL's Kx: RSA, ECDH (ephemeral in OpenSSL 3), DH (ephemeral), any (TLS 1.3), PSK, RSAPSK, ECDHEPSK, DHEPSK, SRP */
  kx: string;
  /** OpenSSL's Au: RSA, ECDSA, DSS, None (anonymous), PSK, SRP, any (TLS 1.3) */
  auth: string;
  /** OpenSSL's Enc, e.g. AESGCM(128), AES(256) (CBC), CHACHA20/POLY1305(256), None */
  enc: string;
  /** OpenSSL's Mac: AEAD, SHA1, SHA256, SHA384, MD5 */
  mac: string;
  /** authenticated encryption (GCM, CCM, ChaCha20-Poly1305), RFC 5116 */
  aead: boolean;
  /** the key exchange is ephemeral: a key stolen later opens no recording */
  forwardSecret: boolean;
  /** the server key decrypts the pre-master secret (RFC 5246 §7.4.7.1) */
  staticRsa: boolean;
  /** CBC-mode encryption with MAC-then-encrypt (Lucky13, padding oracles) */
  cbc: boolean;
  /** HMAC-SHA1 record MAC */
  sha1Mac: boolean;
  /** no encryption at all */
  nullEncryption: boolean;
  /** no server authentication */
  anonymous: boolean;
  /** 40/56-bit export-grade suite */
  export: boolean;
}

/** What a server with a profile can negotiate, per protocol version. */
export interface TlsCapabilities {
  /** the server key type the suites were filtered for */
  keyType: ServerKeyType;
  /** every version in the profile's range, oldest first, with the suites usable on it (may be empty) */
  versions: Array<{ version: TlsVersion; suites: SuiteInfo[] }>;
  /** the TLS <= 1.2 cipher list and the TLS 1.3 suites exactly as node is given them */
  cipherList: string;
  cipherSuites: string;
}

/** Parses one line of `openssl ciphers -V -stdname` (openssl-ciphers(1)); null for other lines. */
export function parseOpensslCipherLine(line: string): SuiteInfo | null {
  const m = /^\s*0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2})\s+-\s+(\S+)\s+-\s+(\S+)\s+(\S+)\s+Kx=(\S+)\s+Au=(\S+)\s+Enc=(\S+)\s+Mac=(\S+)/.exec(line);
  if (!m) return null;
  const [, hi, lo, iana, openssl, minProtocol, kx, auth, enc, mac] = m as unknown as string[];
  const aead = mac === 'AEAD';
  const nullEncryption = enc === 'None';
  return {
    id: (parseInt(hi!, 16) << 8) | parseInt(lo!, 16),
    iana: iana!,
    openssl: openssl!,
    minProtocol: minProtocol!,
    kx: kx!,
    auth: auth!,
    enc: enc!,
    mac: mac!,
    aead,
    forwardSecret: ['ECDH', 'DH', 'any', 'ECDHEPSK', 'DHEPSK'].includes(kx!),
    staticRsa: kx === 'RSA' || kx === 'RSAPSK',
    cbc: !aead && !nullEncryption && !/^RC4/.test(enc!),
    sha1Mac: mac === 'SHA1',
    nullEncryption,
    anonymous: auth === 'None',
    export: /EXPORT|^EXP-/.test(iana! + ' ' + openssl!),
  };
}

/** Parses the whole output of `openssl ciphers -V -stdname`. */
export function parseOpensslCiphers(text: string): SuiteInfo[] {
  return text.split('\n').flatMap((l) => parseOpensslCipherLine(l) ?? []);
}

/** True when OpenSSL would run the suite on `version` (its min protocol; TLS 1.3 suites only on 1.3). */
export function suiteRunsOn(s: SuiteInfo, version: TlsVersion | 'SSLv3'): boolean {
  const v = OPENSSL_MIN_PROTOCOLS.indexOf(version === 'SSLv3' ? 'SSLv3' : version);
  const min = OPENSSL_MIN_PROTOCOLS.indexOf(s.minProtocol as (typeof OPENSSL_MIN_PROTOCOLS)[number]);
  if (s.minProtocol === 'TLSv1.3') return version === 'TLSv1.3';
  return version !== 'TLSv1.3' && min >= 0 && v >= min;
}

/**
 * True when a server whose certificate key is `keyType` can select the suite: its authentication
 * must be that key (ECDSA suites need an EC key, RFC 8422 §2), and PSK/SRP suites need secrets
 * secchat's server never configures.
 */
export function suiteUsableWithKey(s: SuiteInfo, keyType: ServerKeyType): boolean {
  if (/PSK|SRP/.test(s.kx) || s.auth === 'PSK' || s.auth === 'SRP') return false;
  switch (s.auth) {
    case 'any':
    case 'None':
      return true;
    case 'RSA':
      return keyType === 'rsa';
    case 'ECDSA':
      return keyType === 'ec' || keyType === 'ed25519' || keyType === 'ed448';
    case 'DSS':
      return keyType === 'dsa';
    default:
      return false;
  }
}

const opensslCache = new Map<string, SuiteInfo[]>();

/**
 * The suites OpenSSL enables for a TLS <= 1.2 cipher list and TLS 1.3 suites, at the security level
 * the list sets (default 1), as `openssl ciphers -V -stdname -s` prints them. An empty `cipherList`
 * (node's way of turning TLS 1.2 off) yields TLS 1.3 suites only.
 * @param opts.supportedOnly `-s`: only suites a context could use (default); false lists every suite
 *   the list names, PSK and SRP ones included (a scanner's offer)
 * @throws SecchatError(INTERNAL) when the `openssl` program cannot run
 * @throws UsageError(PROFILE_INVALID) when OpenSSL refuses the strings
 */
export function opensslEnabledSuites(cipherList: string, cipherSuites: string, opts: { supportedOnly?: boolean } = {}): SuiteInfo[] {
  const supportedOnly = opts.supportedOnly ?? true;
  const key = `${cipherList}\u0000${cipherSuites}\u0000${supportedOnly}`;
  const hit = opensslCache.get(key);
  if (hit) return hit;
  // `openssl ciphers` refuses an empty list; a list of one TLS 1.2 suite, dropped below, stands in.
  const list = cipherList === '' || /^@SECLEVEL=\d+$/.test(cipherList) ? 'ECDHE-RSA-AES128-GCM-SHA256' : cipherList;
  let out: string;
  try {
    // OPENSSL_CONF=/dev/null: the system's openssl.cnf may raise the level for the openssl program,
    // while node's own OpenSSL starts from the compiled-in defaults.
    out = execFileSync('openssl', ['ciphers', '-V', '-stdname', ...(supportedOnly ? ['-s'] : []), '-ciphersuites', cipherSuites, list], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OPENSSL_CONF: '/dev/null' },
      timeout: 10_000,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new SecchatError(ERROR_CODES.INTERNAL, 'the openssl program is needed to expand TLS cipher lists (install the Debian package openssl)');
    const why = String(e.stderr ?? e.message).trim().split('\n')[0];
    throw new UsageError(ERROR_CODES.PROFILE_INVALID, `OpenSSL refused the cipher list "${cipherList}" / suites "${cipherSuites}" (${why})`, { field: 'tls.ciphers' });
  }
  let suites = parseOpensslCiphers(out);
  if (list !== cipherList) suites = suites.filter((s) => s.minProtocol === 'TLSv1.3');
  opensslCache.set(key, suites);
  return suites;
}

/** OpenSSL's default TLS 1.3 suites (what node uses when the cipher string names none). */
export const DEFAULT_TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

/**
 * Splits node's one cipher string the way node does (lib/internal/tls/secure-context.js
 * `processCiphers`): `TLS_*` names are TLS 1.3 suites, the rest is the TLS <= 1.2 list.
 */
export function splitCipherString(s: string): { cipherList: string; cipherSuites: string } {
  const parts = s.split(':').filter((x) => x.length > 0);
  const suites = parts.filter((x) => x.startsWith('TLS_')).join(':');
  return { cipherList: parts.filter((x) => !x.startsWith('TLS_')).join(':'), cipherSuites: suites || DEFAULT_TLS13_SUITES };
}

/**
 * The profile's effective TLS capabilities: for every version in its range, the suites OpenSSL
 * enables at the effective security level and that a server with a `keyType` certificate can
 * select. Empty for `transport: plain`.
 * @param keyType the server certificate's key type (the lab PKI issues RSA keys)
 * @throws as {@link opensslEnabledSuites}
 */
export function tlsCapabilities(p: Profile, keyType: ServerKeyType = 'rsa'): TlsCapabilities {
  const { cipherList, cipherSuites } = splitCipherString(cipherString(p));
  if (p.transport === 'plain') return { keyType, versions: [], cipherList, cipherSuites };
  const enabled = opensslEnabledSuites(cipherList, cipherSuites).filter((s) => suiteUsableWithKey(s, keyType));
  const versions = TLS_VERSIONS.filter((v) => versionRank(v) >= versionRank(p.tls.minVersion) && versionRank(v) <= versionRank(p.tls.maxVersion)).map((version) => ({
    version,
    suites: enabled.filter((s) => suiteRunsOn(s, version)),
  }));
  return { keyType, versions, cipherList, cipherSuites };
}

/** Every distinct suite usable on some version of the capabilities. */
export function allSuites(c: TlsCapabilities): SuiteInfo[] {
  const seen = new Map<number, SuiteInfo>();
  for (const v of c.versions) for (const s of v.suites) seen.set(s.id, s);
  return [...seen.values()];
}

/** The key type of a PEM certificate's public key. */
export function keyTypeOf(certPem: string): ServerKeyType {
  const t = new X509Certificate(certPem).publicKey.asymmetricKeyType;
  return t === 'ec' || t === 'ed25519' || t === 'ed448' || t === 'dsa' ? t : 'rsa';
}

/**
 * Refuses TLS settings that cannot work, decided by OpenSSL: every version the profile allows must
 * have at least one suite a server with this key type can select; a TLS <= 1.2 cipher list is
 * refused when no TLS <= 1.2 version is allowed (it could change nothing), and so are TLS 1.3 suites
 * when TLS 1.3 is not allowed.
 * @throws UsageError SECCHAT_ERR_PROFILE_INVALID naming the field and the reason
 */
export function checkTlsCapabilities(p: Profile, keyType: ServerKeyType = 'rsa'): void {
  if (p.transport === 'plain') return;
  const caps = tlsCapabilities(p, keyType);
  const problems: string[] = [];
  // Settings for versions the range excludes change nothing: refused like other ineffective settings.
  const given12 = splitCipherString(p.tls.ciphers ?? '').cipherList.split(':').filter((x) => x && !x.startsWith('@'));
  if (p.tls.ciphers && given12.length > 0 && versionRank(p.tls.maxVersion) >= 0 && versionRank(p.tls.minVersion) >= versionRank('TLSv1.3')) {
    problems.push(`tls.ciphers: "${given12.join(':')}" has no effect: it selects TLS 1.2-and-older suites and the profile allows only TLSv1.3 (TLS 1.3 suites are set with tls.ciphersuites); remove it or lower tls.minVersion`);
  }
  if (p.tls.ciphersuites && versionRank(p.tls.maxVersion) < versionRank('TLSv1.3')) {
    problems.push(`tls.ciphersuites: has no effect: TLS 1.3 suites, and tls.maxVersion is ${p.tls.maxVersion}; remove it or allow TLSv1.3`);
  }
  for (const { version, suites } of caps.versions) {
    if (suites.length > 0) continue;
    const field = version === 'TLSv1.3' ? (p.tls.ciphersuites ? 'tls.ciphersuites' : 'tls.ciphers') : 'tls.ciphers';
    const given = version === 'TLSv1.3' ? caps.cipherSuites : caps.cipherList || '(no TLS 1.2 suite)';
    const enabledAnywhere = opensslEnabledSuites(caps.cipherList, caps.cipherSuites).filter((s) => suiteRunsOn(s, version));
    const onlyTls13Names = version !== 'TLSv1.3' && p.tls.ciphers !== undefined && caps.cipherList.split(':').every((x) => x === '' || x.startsWith('@'));
    // secchat's default list is AEAD suites only, which TLS 1.0 and 1.1 do not have (RFC 5246 added AEAD).
    const defaultListOnly = p.tls.ciphers === undefined && (version === 'TLSv1' || version === 'TLSv1.1');
    const why = onlyTls13Names
      ? `tls.ciphers "${p.tls.ciphers}" names only TLS 1.3 suites (node passes TLS_* names to TLS 1.3), which leaves ${version} without any suite`
      : defaultListOnly
        ? `tls.ciphers is not set, and the default list holds only AEAD suites, which need TLS 1.2; ${version} has CBC suites only — set tls.ciphers to allow some, e.g. "ECDHE+AESGCM:ECDHE+AES" (as the legacy-tls10 preset does), and know why RFC 8996 deprecates ${version}`
      : enabledAnywhere.length
        ? `its suites (${enabledAnywhere.map((s) => s.openssl).join(', ')}) need a certificate key other than the server's ${keyType.toUpperCase()} key (or a PSK/SRP secret)`
        : `OpenSSL enables no ${version} suite from "${given}" at its security level`;
    problems.push(`${field}: ${version} is allowed (tls.minVersion ${p.tls.minVersion} … tls.maxVersion ${p.tls.maxVersion}) but no handshake can use it: ${why}; add a ${version} suite or narrow the version range`);
  }
  if (problems.length) throw new UsageError(ERROR_CODES.PROFILE_INVALID, `invalid profile ${p.name}:\n  - ${problems.join('\n  - ')}`, { field: problems[0]!.split(':')[0], problems });
}

/** OpenSSL's reason from a node TLS error message ("no suitable signature algorithm"), without file paths. */
export function opensslReason(message: string): string {
  const m = /SSL routines:[^:]*:([^:\n]+)/.exec(message);
  return (m ? m[1]! : message.split('\n')[0]!).trim();
}

/**
 * Real handshakes, one per allowed version: a node server with the profile's options and `identity`
 * on 127.0.0.1, and a node client limited to that version that offers every suite at security
 * level 0 — so only the server's settings can make it fail. Catches what no cipher list shows, e.g.
 * TLS 1.0 with `@SECLEVEL=2` (OpenSSL cannot sign its handshake at that level).
 * @param timeoutMs per handshake
 * @throws UsageError SECCHAT_ERR_PROFILE_INVALID naming `tls.minVersion`/`tls.ciphers` and OpenSSL's error
 */
export async function checkTlsHandshakes(p: Profile, identity: CertKeyPem, timeoutMs = 3000): Promise<void> {
  if (p.transport === 'plain') return;
  const server = tls.createServer(serverTlsOptions(p, identity), (s) => s.end());
  const serverErrors: string[] = [];
  server.on('tlsClientError', (err) => serverErrors.push(err.message));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const versions = TLS_VERSIONS.filter((v) => versionRank(v) >= versionRank(p.tls.minVersion) && versionRank(v) <= versionRank(p.tls.maxVersion));
  try {
    const results = await Promise.all(
      versions.map(
        (version) =>
          new Promise<{ version: TlsVersion; error: string | null }>((resolve) => {
            const sock = tls.connect({ host: '127.0.0.1', port, minVersion: version, maxVersion: version, ciphers: `${DEFAULT_TLS13_SUITES}:TLS_AES_128_CCM_SHA256:ALL:@SECLEVEL=0`, rejectUnauthorized: false });
            const timer = setTimeout(() => finish('no answer within ' + timeoutMs + ' ms'), timeoutMs);
            function finish(error: string | null) {
              clearTimeout(timer);
              sock.destroy();
              resolve({ version, error });
            }
            sock.once('secureConnect', () => finish(null));
            sock.once('error', (e) => finish(e.message));
          }),
      ),
    );
    const failed = results.filter((r) => r.error !== null);
    if (failed.length) {
      const server = serverErrors.length ? `; the server's OpenSSL: ${opensslReason(serverErrors[0]!)}` : '';
      const problems = failed.map((r) => {
        const field = p.tls.ciphers ? 'tls.ciphers' : 'tls.minVersion';
        return `${field}: ${r.version} is allowed but a ${r.version} handshake with this server fails (client: ${opensslReason(r.error!)}${server}); raise tls.minVersion or change tls.ciphers (a @SECLEVEL in tls.ciphers is applied as written)`;
      });
      throw new UsageError(ERROR_CODES.PROFILE_INVALID, `invalid profile ${p.name}:\n  - ${problems.join('\n  - ')}`, { field: problems[0]!.split(':')[0], problems });
    }
  } finally {
    server.close();
  }
}
