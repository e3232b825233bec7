/**
 * The ServerHello (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3), including the HelloRetryRequest form, with
 * supported_versions (§4.2.1), key_share (§4.2.8), extended_master_secret (RFC 7627),
 * encrypt_then_mac (RFC 7366), pre_shared_key (§4.2.11) and session_ticket (RFC 5077) decoded.
 */
import { Cursor } from './byte-cursor.ts';
import { CIPHER_SUITES, cipherSuiteName, type CipherSuiteInfo } from './cipher-suites.ts';
import { parseExtensions, type TlsExtension } from './extensions.ts';
import { EXTENSION_TYPE, HELLO_RETRY_REQUEST_RANDOM, groupName, type NamedValue } from './registry.ts';

/** A decoded ServerHello (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3). */
export interface ServerHello {
  legacyVersion: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: NamedValue;
  /** The suite's table row, if secchat knows it. */
  suite?: Readonly<CipherSuiteInfo>;
  compressionMethod: number;
  extensions: TlsExtension[];
  /** The negotiated version: supported_versions when present (TLS 1.3), else legacy_version. */
  selectedVersion: number;
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  /** TLS 1.3: the group of the server's key share (or the group asked for, in a HelloRetryRequest). */
  keyShareGroup?: NamedValue;
  /** TLS 1.3: the server accepted a pre-shared key (resumption), RFC 8446 §4.2.11. */
  preSharedKey: boolean;
  /** TLS 1.2: the server will send a NewSessionTicket (RFC 5077 §3.2). */
  sessionTicket: boolean;
  /** This is a HelloRetryRequest (RFC 8446 §4.1.3), not a real ServerHello. */
  helloRetryRequest: boolean;
}

/**
 * Decode a ServerHello body (without the 4-byte handshake header).
 * @throws ProtocolError on truncation, trailing bytes, or malformed decoded extensions.
 */
export function parseServerHello(body: Buffer): ServerHello {
  const c = new Cursor(body, 'ServerHello');
  const legacyVersion = c.u16('legacy_version');
  const random = c.bytes(32, 'random');
  const sessionId = c.vec(1, 'session_id');
  const suiteId = c.u16('cipher_suite');
  const compressionMethod = c.u8('compression_method');
  const extensions = parseExtensions(c, 'ServerHello');
  c.end();
  const helloRetryRequest = random.equals(HELLO_RETRY_REQUEST_RANDOM);
  const hello: ServerHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuite: { id: suiteId, name: cipherSuiteName(suiteId) },
    suite: CIPHER_SUITES.get(suiteId),
    compressionMethod,
    extensions,
    selectedVersion: legacyVersion,
    extendedMasterSecret: false,
    encryptThenMac: false,
    preSharedKey: false,
    sessionTicket: false,
    helloRetryRequest,
  };
  for (const ext of extensions) {
    const e = new Cursor(ext.data, `ServerHello.${ext.name}`);
    switch (ext.type) {
      case EXTENSION_TYPE.supported_versions:
        hello.selectedVersion = e.u16('selected_version');
        e.end();
        break;
      case EXTENSION_TYPE.key_share: {
        // ServerHello: KeyShareEntry; HelloRetryRequest: just the selected NamedGroup (§4.2.8).
        const id = e.u16('group');
        if (!helloRetryRequest) e.vec(2, 'key_exchange');
        e.end();
        hello.keyShareGroup = { id, name: groupName(id) };
        break;
      }
      case EXTENSION_TYPE.extended_master_secret:
        hello.extendedMasterSecret = true;
        break;
      case EXTENSION_TYPE.encrypt_then_mac:
        hello.encryptThenMac = true;
        break;
      case EXTENSION_TYPE.pre_shared_key:
        hello.preSharedKey = true;
        break;
      case EXTENSION_TYPE.session_ticket:
        hello.sessionTicket = true;
        break;
    }
  }
  return hello;
}
