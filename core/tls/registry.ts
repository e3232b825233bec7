/**
 * TLS protocol numbers and their names, from the IANA "Transport Layer Security (TLS) Parameters"
 * registries: record content types (RFC 5246 §6.2.1, RFC 8446 §5.1), handshake types (RFC 8446 §4),
 * extension types (RFC 8446 §4.2), protocol versions, named groups (RFC 8446 §4.2.7, RFC 7919), the
 * signalling cipher suite values (RFC 7507, RFC 5746), GREASE (RFC 8701) and the HelloRetryRequest
 * random (RFC 8446 §4.1.3).
 *
 * Versions are named in node's spelling ('TLSv1.2'), groups in node's `ecdhCurve` spelling
 * ('X25519', 'P-256'). Cipher suites have their own table: `cipher-suites.ts`; alerts: `alerts.ts`.
 */

/** Record content types (RFC 5246 §6.2.1, RFC 6520 for heartbeat). */
export const CONTENT_TYPE = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
  heartbeat: 24,
} as const;

/** Handshake message types (RFC 5246 §7.4, RFC 8446 §4). */
export const HANDSHAKE_TYPE = {
  hello_request: 0,
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  server_key_exchange: 12,
  certificate_request: 13,
  server_hello_done: 14,
  certificate_verify: 15,
  client_key_exchange: 16,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

/** Extension types this module decodes or names (IANA "TLS ExtensionType Values"). */
export const EXTENSION_TYPE = {
  server_name: 0,
  status_request: 5,
  supported_groups: 10,
  ec_point_formats: 11,
  signature_algorithms: 13,
  alpn: 16,
  signed_certificate_timestamp: 18,
  padding: 21,
  encrypt_then_mac: 22,
  extended_master_secret: 23,
  record_size_limit: 28,
  session_ticket: 35,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  renegotiation_info: 0xff01,
} as const;


const EXTENSION_NAMES = new Map<number, string>(Object.entries(EXTENSION_TYPE).map(([k, v]) => [v, k]));

/** Wire value → extension name ('server_name'); GREASE and unknown values come back as hex. */
export function extensionName(type: number): string {
  return EXTENSION_NAMES.get(type) ?? (isGrease(type) ? 'GREASE' : `0x${hex4(type)}`);
}

/** A wire value with its registry name, e.g. { id: 0x001d, name: 'X25519' }. */
export interface NamedValue {
  id: number;
  name: string;
}

/** Protocol versions by wire value, in node's spelling. */
const VERSION_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0300, 'SSLv3'],
  [0x0301, 'TLSv1'],
  [0x0302, 'TLSv1.1'],
  [0x0303, 'TLSv1.2'],
  [0x0304, 'TLSv1.3'],
]);

/** Wire value → node's name ('TLSv1.2'); GREASE and unknown values come back as hex. */
export function versionName(version: number): string {
  return VERSION_NAMES.get(version) ?? (isGrease(version) ? 'GREASE' : `0x${hex4(version)}`);
}

/** Named groups (RFC 8446 §4.2.7, RFC 7919), in node's `ecdhCurve` spelling where node has one. */
const GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0017, 'P-256'],
  [0x0018, 'P-384'],
  [0x0019, 'P-521'],
  [0x001d, 'X25519'],
  [0x001e, 'X448'],
  [0x0100, 'ffdhe2048'],
  [0x0101, 'ffdhe3072'],
  [0x0102, 'ffdhe4096'],
  [0x0103, 'ffdhe6144'],
  [0x0104, 'ffdhe8192'],
  [0x11ec, 'X25519MLKEM768'],
]);

/** Wire value → group name ('X25519', 'P-256'...); GREASE and unknown values come back as hex. */
export function groupName(id: number): string {
  return GROUP_NAMES.get(id) ?? (isGrease(id) ? 'GREASE' : `0x${hex4(id)}`);
}


/** TLS_FALLBACK_SCSV (RFC 7507 §6): a client retrying with a lower version says so. */
export const TLS_FALLBACK_SCSV = 0x5600;
/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3). */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/**
 * The special ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest").
 */
export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

/** GREASE values (RFC 8701 §2): 0x?A?A with both bytes equal. */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

/** Four lowercase hex digits, for naming values no registry entry names. */
export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** A version with its wire value, as annotated bytes show it: 'TLSv1.2 (0x0303)'. */
export function versionLabel(version: number): string {
  return `${versionName(version)} (0x${hex4(version)})`;
}

/** TLS SignatureScheme values (RFC 8446 §4.2.3, RFC 8422 §5.1.3 for the SHA-1 ones, RFC 8734). */
const SIGNATURE_SCHEME_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0201, 'rsa_pkcs1_sha1'],
  [0x0203, 'ecdsa_sha1'],
  [0x0401, 'rsa_pkcs1_sha256'],
  [0x0501, 'rsa_pkcs1_sha384'],
  [0x0601, 'rsa_pkcs1_sha512'],
  [0x0403, 'ecdsa_secp256r1_sha256'],
  [0x0503, 'ecdsa_secp384r1_sha384'],
  [0x0603, 'ecdsa_secp521r1_sha512'],
  [0x0804, 'rsa_pss_rsae_sha256'],
  [0x0805, 'rsa_pss_rsae_sha384'],
  [0x0806, 'rsa_pss_rsae_sha512'],
  [0x0807, 'ed25519'],
  [0x0808, 'ed448'],
  [0x0809, 'rsa_pss_pss_sha256'],
  [0x080a, 'rsa_pss_pss_sha384'],
  [0x080b, 'rsa_pss_pss_sha512'],
  [0x081a, 'ecdsa_brainpoolP256r1tls13_sha256'],
  [0x081b, 'ecdsa_brainpoolP384r1tls13_sha384'],
  [0x081c, 'ecdsa_brainpoolP512r1tls13_sha512'],
]);

/** Wire value → SignatureScheme name ('rsa_pss_rsae_sha256'); GREASE and unknown values as hex. */
export function signatureSchemeName(id: number): string {
  return SIGNATURE_SCHEME_NAMES.get(id) ?? (isGrease(id) ? 'GREASE' : `0x${hex4(id)}`);
}
