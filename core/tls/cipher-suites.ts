/**
 * The cipher suite table: one table, one place. Every TLS cipher suite secchat knows, with its
 * IANA name (RFC 5246 App. A.5, RFC 5288, RFC 5289, RFC 7905, RFC 8446 §B.4), OpenSSL's name, key
 * exchange, authentication, bulk cipher, record MAC and PRF hash — plus the sizes the TLS 1.2
 * record layer derives from them (RFC 5246 §6.3).
 */
import { TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV, hex4, isGrease } from './registry.ts';

export type KeyExchange = 'RSA' | 'ECDHE' | 'DHE' | 'TLS13';
export type BulkCipher = 'AES-128-GCM' | 'AES-256-GCM' | 'AES-128-CBC' | 'AES-256-CBC' | 'CHACHA20-POLY1305';
export type HashName = 'SHA256' | 'SHA384' | 'SHA1';

export interface CipherSuiteInfo {
  /** Wire value. */
  id: number;
  /** IANA name, e.g. `TLS_RSA_WITH_AES_128_GCM_SHA256`. */
  name: string;
  /** OpenSSL's name, as used in node's `ciphers` option, e.g. `AES128-GCM-SHA256`. */
  openssl: string;
  keyExchange: KeyExchange;
  /** Who signs the ephemeral share (ECDHE/DHE), or whose key decrypts the PMS (RSA); null for TLS 1.3. */
  authentication: 'RSA' | 'ECDSA' | null;
  cipher: BulkCipher;
  /** Record MAC for CBC suites; null for AEAD suites. */
  mac: HashName | null;
  /** Hash of the TLS 1.2 PRF (RFC 5246 §5) or of HKDF (RFC 8446 §7.1). */
  prfHash: 'SHA256' | 'SHA384';
}

type Row = [number, string, string, KeyExchange, 'RSA' | 'ECDSA' | null, BulkCipher, HashName | null, 'SHA256' | 'SHA384'];
// prettier-ignore
const SUITE_ROWS: Row[] = [
  // RSA key exchange: the stolen server key decrypts the pre-master secret.
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA', 'RSA', 'RSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA', 'RSA', 'RSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256', 'RSA', 'RSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', 'AES256-SHA256', 'RSA', 'RSA', 'AES-256-CBC', 'SHA256', 'SHA256'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256', 'RSA', 'RSA', 'AES-128-GCM', null, 'SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384', 'RSA', 'RSA', 'AES-256-GCM', null, 'SHA384'],
  // DHE: forward secret (finite-field).
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'DHE-RSA-AES128-SHA', 'DHE', 'RSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'DHE-RSA-AES256-SHA', 'DHE', 'RSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 'DHE-RSA-AES128-SHA256', 'DHE', 'RSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'DHE-RSA-AES256-SHA256', 'DHE', 'RSA', 'AES-256-CBC', 'SHA256', 'SHA256'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256', 'DHE', 'RSA', 'AES-128-GCM', null, 'SHA256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'DHE-RSA-AES256-GCM-SHA384', 'DHE', 'RSA', 'AES-256-GCM', null, 'SHA384'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'DHE-RSA-CHACHA20-POLY1305', 'DHE', 'RSA', 'CHACHA20-POLY1305', null, 'SHA256'],
  // ECDHE: forward secret (elliptic curve).
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE', 'ECDSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE', 'ECDSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE', 'RSA', 'AES-128-CBC', 'SHA1', 'SHA256'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA', 'ECDHE', 'RSA', 'AES-256-CBC', 'SHA1', 'SHA256'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE', 'ECDSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE', 'ECDSA', 'AES-256-CBC', 'SHA384', 'SHA384'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE', 'RSA', 'AES-128-CBC', 'SHA256', 'SHA256'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384', 'ECDHE', 'RSA', 'AES-256-CBC', 'SHA384', 'SHA384'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE', 'ECDSA', 'AES-128-GCM', null, 'SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE', 'ECDSA', 'AES-256-GCM', null, 'SHA384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE', 'RSA', 'AES-128-GCM', null, 'SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE', 'RSA', 'AES-256-GCM', null, 'SHA384'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE', 'RSA', 'CHACHA20-POLY1305', null, 'SHA256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE', 'ECDSA', 'CHACHA20-POLY1305', null, 'SHA256'],
  // TLS 1.3 (RFC 8446 §B.4): key exchange is always (EC)DHE or PSK; OpenSSL uses the IANA names.
  [0x1301, 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS13', null, 'AES-128-GCM', null, 'SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384', 'TLS13', null, 'AES-256-GCM', null, 'SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS13', null, 'CHACHA20-POLY1305', null, 'SHA256'],
];

/** Every cipher suite secchat knows, by wire value. */
export const CIPHER_SUITES: ReadonlyMap<number, Readonly<CipherSuiteInfo>> = new Map(
  SUITE_ROWS.map(([id, name, openssl, keyExchange, authentication, cipher, mac, prfHash]) => [
    id,
    Object.freeze({ id, name, openssl, keyExchange, authentication, cipher, mac, prfHash }),
  ]),
);

/** Sizes of each bulk cipher in the TLS 1.2 record layer (RFC 5246 §6.3, RFC 5288 §3, RFC 7905 §2). */
export const BULK_CIPHER_SIZES: Readonly<
  Record<BulkCipher, { keyBytes: number; fixedIvBytes: number; recordIvBytes: number; tagBytes: number; blockBytes: number }>
> = {
  'AES-128-GCM': { keyBytes: 16, fixedIvBytes: 4, recordIvBytes: 8, tagBytes: 16, blockBytes: 0 },
  'AES-256-GCM': { keyBytes: 32, fixedIvBytes: 4, recordIvBytes: 8, tagBytes: 16, blockBytes: 0 },
  'AES-128-CBC': { keyBytes: 16, fixedIvBytes: 0, recordIvBytes: 16, tagBytes: 0, blockBytes: 16 },
  'AES-256-CBC': { keyBytes: 32, fixedIvBytes: 0, recordIvBytes: 16, tagBytes: 0, blockBytes: 16 },
  'CHACHA20-POLY1305': { keyBytes: 32, fixedIvBytes: 12, recordIvBytes: 0, tagBytes: 16, blockBytes: 0 },
};

/** Output bytes of each MAC / PRF hash. */
export const HASH_BYTES: Readonly<Record<HashName, number>> = { SHA1: 20, SHA256: 32, SHA384: 48 };

/**
 * IANA names of suites OpenSSL clients offer that secchat does not model (DSS, CCM, ARIA, RC4,
 * 3DES): named so a ClientHello reads as in Wireshark, left out of {@link CIPHER_SUITES} because no
 * proxy, attack or decrypter here handles them.
 */
// prettier-ignore
const NAME_ONLY_SUITES: ReadonlyMap<number, string> = new Map([
  [0x0004, 'TLS_RSA_WITH_RC4_128_MD5'], [0x0005, 'TLS_RSA_WITH_RC4_128_SHA'], [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0x0032, 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA'], [0x0038, 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA'],
  [0x0040, 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA256'], [0x006a, 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA256'],
  [0x00a2, 'TLS_DHE_DSS_WITH_AES_128_GCM_SHA256'], [0x00a3, 'TLS_DHE_DSS_WITH_AES_256_GCM_SHA384'],
  [0x1304, 'TLS_AES_128_CCM_SHA256'], [0x1305, 'TLS_AES_128_CCM_8_SHA256'], [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA'],
  [0xc050, 'TLS_RSA_WITH_ARIA_128_GCM_SHA256'], [0xc051, 'TLS_RSA_WITH_ARIA_256_GCM_SHA384'],
  [0xc052, 'TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256'], [0xc053, 'TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384'],
  [0xc056, 'TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256'], [0xc057, 'TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384'],
  [0xc05c, 'TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256'], [0xc05d, 'TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384'],
  [0xc060, 'TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256'], [0xc061, 'TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384'],
  [0xc09c, 'TLS_RSA_WITH_AES_128_CCM'], [0xc09d, 'TLS_RSA_WITH_AES_256_CCM'],
  [0xc09e, 'TLS_DHE_RSA_WITH_AES_128_CCM'], [0xc09f, 'TLS_DHE_RSA_WITH_AES_256_CCM'],
  [0xc0a0, 'TLS_RSA_WITH_AES_128_CCM_8'], [0xc0a1, 'TLS_RSA_WITH_AES_256_CCM_8'],
  [0xc0a2, 'TLS_DHE_RSA_WITH_AES_128_CCM_8'], [0xc0a3, 'TLS_DHE_RSA_WITH_AES_256_CCM_8'],
  [0xc0ac, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM'], [0xc0ad, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM'],
  [0xc0ae, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'], [0xc0af, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8'],
]);

/**
 * Name of a cipher suite value for annotated bytes (`secchat explain`): {@link cipherSuiteName}, or
 * the IANA name of a suite secchat does not model. Results keep `cipherSuiteName`'s hex for those,
 * so a report still shows at a glance that no attack here understood the suite.
 */
export function cipherSuiteLabel(id: number): string {
  return CIPHER_SUITES.has(id) ? cipherSuiteName(id) : (NAME_ONLY_SUITES.get(id) ?? cipherSuiteName(id));
}

/** Name of a cipher suite value: IANA name, the SCSV names, 'GREASE', or hex for unknown ones. */
export function cipherSuiteName(id: number): string {
  const known = CIPHER_SUITES.get(id);
  if (known) return known.name;
  if (id === TLS_FALLBACK_SCSV) return 'TLS_FALLBACK_SCSV';
  if (id === TLS_EMPTY_RENEGOTIATION_INFO_SCSV) return 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV';
  if (isGrease(id)) return 'GREASE';
  return `0x${hex4(id)}`;
}

/** How strong a suite is against a recording or an active attacker: the classes downgrade-suite ranks. */
export interface SuiteStrength {
  /** (EC)DHE or TLS 1.3: a stolen server key later opens no recording (RFC 8446 §1.2, App. E.1). */
  forwardSecret: boolean;
  /** AEAD record protection (RFC 5116); false for MAC-then-encrypt CBC (RFC 5246 §6.2.3.2, Lucky 13). */
  aead: boolean;
  /** Bulk cipher key length, bits. */
  keyBits: number;
}

/**
 * Key length from which a longer key buys no practical strength against these attackers (NIST SP
 * 800-57 Part 1 §5.6.1: 128-bit security is acceptable beyond 2031). AES-128 and AES-256 rank
 * alike: forcing one onto the other is not a downgrade a student should see as a break.
 */
const ADEQUATE_KEY_BITS = 128;

/** The strength of a known suite (see {@link SuiteStrength}). */
export function suiteStrength(suite: Readonly<CipherSuiteInfo>): SuiteStrength {
  const forwardSecret = suite.keyExchange !== 'RSA';
  const aead = suite.mac === null;
  return { forwardSecret, aead, keyBits: BULK_CIPHER_SIZES[suite.cipher].keyBytes * 8 };
}

/**
 * Orders two known suites weakest first: no forward secrecy before forward secrecy, then CBC
 * before AEAD, then a key shorter than 128 bits (see ADEQUATE_KEY_BITS: at and above it keys rank
 * alike). Negative when `a` is weaker, 0 when equally strong.
 */
export function compareSuiteStrength(a: Readonly<CipherSuiteInfo>, b: Readonly<CipherSuiteInfo>): number {
  const x = suiteStrength(a);
  const y = suiteStrength(b);
  return Number(x.forwardSecret) - Number(y.forwardSecret) || Number(x.aead) - Number(y.aead) || Math.min(x.keyBits, ADEQUATE_KEY_BITS) - Math.min(y.keyBits, ADEQUATE_KEY_BITS);
}

/** A suite in words, e.g. "TLS_RSA_WITH_AES_128_GCM_SHA256 (static-RSA key exchange, no forward secrecy, AEAD, 128-bit key)". */
export function describeSuite(s: Readonly<CipherSuiteInfo>): string {
  const st = suiteStrength(s);
  return `${s.name} (${st.forwardSecret ? 'forward secret' : 'static-RSA key exchange, no forward secrecy'}, ${st.aead ? 'AEAD' : 'CBC, MAC-then-encrypt'}, ${st.keyBits}-bit key)`;
}
