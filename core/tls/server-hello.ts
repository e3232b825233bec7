/**
 * The ServerHello (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3), including the HelloRetryRequest form, with
 * supported_versions (§4.2.1), key_share (§4.2.8), extended_master_secret (RFC 7627),
 * encrypt_then_mac (RFC 7366), pre_shared_key (§4.2.11) and session_ticket (RFC 5077) decoded.
 */
import { Cursor, type FieldLog } from './byte-cursor.ts';
import { CIPHER_SUITES, cipherSuiteLabel, cipherSuiteName, type CipherSuiteInfo } from './cipher-suites.ts';
import { readExtensions, type TlsExtension } from './extensions.ts';
import { readHelloOpening } from './hello-opening.ts';
import { EXTENSION_TYPE, HELLO_RETRY_REQUEST_RANDOM, groupName, versionLabel, type NamedValue } from './registry.ts';

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
 * @param log records every field read, for annotated bytes (see `annotate.ts`)
 * @throws ProtocolError on truncation, trailing bytes, or malformed decoded extensions.
 */
export function parseServerHello(body: Buffer, log?: FieldLog): ServerHello {
  const c = new Cursor(body, 'ServerHello', log);
  const { legacyVersion, random, sessionId } = readHelloOpening(c, (b) => (b.equals(HELLO_RETRY_REQUEST_RANDOM) ? `${b.toString('hex')} (HelloRetryRequest)` : b.toString('hex')));
  const suiteId = c.u16('cipher_suite', cipherSuiteLabel);
  const compressionMethod = c.u8('compression_method', (m) => (m === 0 ? 'null' : String(m)));
  const helloRetryRequest = random.equals(HELLO_RETRY_REQUEST_RANDOM);
  const hello: ServerHello = {
    legacyVersion,
    random,
    sessionId,
    cipherSuite: { id: suiteId, name: cipherSuiteName(suiteId) },
    suite: CIPHER_SUITES.get(suiteId),
    compressionMethod,
    extensions: [],
    selectedVersion: legacyVersion,
    extendedMasterSecret: false,
    encryptThenMac: false,
    preSharedKey: false,
    sessionTicket: false,
    helloRetryRequest,
  };
  hello.extensions = readExtensions(c, 'ServerHello', {
    [EXTENSION_TYPE.supported_versions]: (e) => {
      hello.selectedVersion = e.u16('selected_version', versionLabel);
      e.end();
    },
    [EXTENSION_TYPE.key_share]: (e) => {
      // ServerHello: KeyShareEntry; HelloRetryRequest: just the selected NamedGroup (§4.2.8).
      const id = e.u16('group', groupName);
      if (!helloRetryRequest) e.vec(2, 'key_exchange', (b) => `${b.length} bytes: ${b.toString('hex')}`);
      e.end();
      hello.keyShareGroup = { id, name: groupName(id) };
    },
    [EXTENSION_TYPE.extended_master_secret]: () => void (hello.extendedMasterSecret = true),
    [EXTENSION_TYPE.encrypt_then_mac]: () => void (hello.encryptThenMac = true),
    [EXTENSION_TYPE.pre_shared_key]: () => void (hello.preSharedKey = true),
    [EXTENSION_TYPE.session_ticket]: () => void (hello.sessionTicket = true),
  });
  return hello;
}
