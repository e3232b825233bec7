/**
 * retro-decrypt, the offline half: given a passively recorded TLS session (both byte streams) and
 * the server's RSA private key stolen afterwards, recover the plaintext — or explain why the
 * recording stays sealed. "Record now, decrypt later" is exactly what forward secrecy defeats.
 *
 * Implements, for TLS 1.0–1.2 with RSA key transport: the handshake walk (RFC 5246 §7.3–7.4),
 * RSAES-PKCS1-v1_5 decryption of the pre-master secret (RFC 8017 §7.2.2, RFC 5246 §7.4.7.1), the
 * master secret, classic (RFC 5246 §8.1) or extended from the session hash (RFC 7627 §4), the key
 * block (§6.3), Finished verification (§7.4.9) and record decryption (see core/tls/prf.ts and
 * core/tls/record-protection.ts).
 * ECDHE / DHE (RFC 8422, RFC 5246 §7.4.3) and every TLS 1.3 handshake (RFC 8446 §4.1) are
 * recognised and reported as `ephemeral`: the server key only signed them, so it cannot open them.
 *
 * This module walks the handshake and decides; one direction's records are `tls12-directions.ts`,
 * the stolen key and its PKCS#1 v1.5 decryption `tls12-stolen-key.ts`.
 *
 * Pure: no sockets, no files; the only I/O-like input is the PEM string. A malformed recording is a
 * `failed` outcome with notes, never a throw — only an unusable key argument throws.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ProtocolError } from '../../core/errors.ts';
import { parseCertificateTls12 } from '../../core/tls/certificate-message.ts';
import type { CipherSuiteInfo, KeyExchange } from '../../core/tls/cipher-suites.ts';
import { parseClientHello, type ClientHello } from '../../core/tls/client-hello.ts';
import type { HandshakeMessage } from '../../core/tls/handshake-reassembly.ts';
import { parseClientKeyExchangeRsa, parseServerKeyExchangeDhe, parseServerKeyExchangeEcdhe } from '../../core/tls/key-exchange.ts';
import { HANDSHAKE_TYPE, versionName } from '../../core/tls/registry.ts';
import { parseServerHello, type ServerHello } from '../../core/tls/server-hello.ts';
import { extendedMasterSecret, deriveKeys, handshakeHash, masterSecret, prfKindFor, type PrfKind } from '../../core/tls/prf.ts';
import { checkFinished, openDirection, scanDirection, type DirectionScan } from './tls12-directions.ts';
import { loadRsaKey, rsaPkcs1v15Decrypt, spkiOf } from './tls12-stolen-key.ts';

export { rsaPkcs1v15Decrypt } from './tls12-stolen-key.ts';
import { RecordDecryptor } from '../../core/tls/record-protection.ts';
import { distinguishedNameText } from '../../core/tls/distinguished-name.ts';

/** What the eavesdropper kept, plus the key stolen later. */
export interface RetroDecryptInput {
  /** Every byte the client sent, in order, from the first (the ClientHello record). */
  clientToServer: Buffer;
  /** Every byte the server sent, in order. */
  serverToClient: Buffer;
  /** The server's RSA private key, PEM (PKCS#1 or PKCS#8, unencrypted). */
  serverPrivateKeyPem: string;
}

/**
 * - `decrypted`: the stolen key opened the session; plaintexts are filled in.
 * - `ephemeral`: (EC)DHE or TLS 1.3 — forward secret; the key only signed the handshake.
 * - `resumed`: an abbreviated handshake; its master secret came from an earlier session.
 * - `unsupported`: a version, suite or option this decrypter does not handle.
 * - `failed`: it should have worked but did not (wrong key, corrupt or truncated recording).
 */
export type RetroOutcome = 'decrypted' | 'ephemeral' | 'resumed' | 'unsupported' | 'failed';

export interface RetroDecryptResult {
  outcome: RetroOutcome;
  /** One sentence for the report: why the outcome is what it is. */
  reason: string;
  keyExchange: KeyExchange | 'unknown';
  /** The ephemeral group for `ephemeral` (e.g. 'X25519', 'P-256', 'DH-2048'). */
  group?: string;
  /** Negotiated version in node's spelling ('TLSv1.2'), or '' when there was no ServerHello. */
  version: string;
  /** IANA suite name (hex when unknown), or '' when there was no ServerHello. */
  suite: string;
  /** The extended master secret (RFC 7627) was negotiated: both hellos carried the extension. */
  extendedMasterSecret: boolean;
  /** Application data the client sent, concatenated. Empty unless decrypted. */
  clientPlaintext: Buffer;
  /** Application data the server sent, concatenated. Empty unless decrypted. */
  serverPlaintext: Buffer;
  /** Whether each Finished message decrypted and its verify_data matched; null when not reached. */
  finishedVerified: { client: boolean | null; server: boolean | null };
  /**
   * NSS key log line (`CLIENT_RANDOM <client random> <master secret>`, hex) once the master secret
   * is known — Wireshark / tshark decrypt the same capture with it.
   */
  keyLogLine?: string;
  /** What was done and seen, in order, for the report. */
  notes: string[];
}
function blank(notes: string[], partial: Partial<RetroDecryptResult> & Pick<RetroDecryptResult, 'outcome' | 'reason'>): RetroDecryptResult {
  return {
    keyExchange: 'unknown',
    version: '',
    suite: '',
    extendedMasterSecret: false,
    clientPlaintext: Buffer.alloc(0),
    serverPlaintext: Buffer.alloc(0),
    finishedVerified: { client: null, server: null },
    notes,
    ...partial,
  };
}

/** Handshake messages of the server's first flight end with ServerHelloDone (RFC 5246 §7.3). */
function splitAt(messages: HandshakeMessage[], type: number): [HandshakeMessage[], HandshakeMessage[]] {
  const i = messages.findIndex((m) => m.msgType === type);
  return i < 0 ? [messages, []] : [messages.slice(0, i + 1), messages.slice(i + 1)];
}

/**
 * Decrypt a recorded TLS session with the server's stolen private key.
 * @returns a result whose `outcome` says what happened; plaintexts are filled only on `decrypted`.
 * @throws SecchatError(PKI) when `serverPrivateKeyPem` is not a readable RSA private key.
 *
 * ```ts
 * const r = decryptRecordedTls12({ clientToServer, serverToClient, serverPrivateKeyPem });
 * if (r.outcome === 'decrypted') console.log(r.clientPlaintext.toString());
 * else console.log(r.reason); // e.g. "ephemeral X25519: the server key only signed the handshake"
 * ```
 */
export function decryptRecordedTls12(input: RetroDecryptInput): RetroDecryptResult {
  const key = loadRsaKey(input.serverPrivateKeyPem);
  const notes: string[] = [];
  try {
    return walk(input, key, notes);
  } catch (err) {
    if (err instanceof ProtocolError) {
      notes.push(`recording is not well-formed TLS: ${err.message}`);
      return blank(notes, { outcome: 'failed', reason: `the recording is not well-formed TLS (${err.message})` });
    }
    throw err;
  }
}

function walk(input: RetroDecryptInput, key: KeyObject, notes: string[]): RetroDecryptResult {
  const c2s = scanDirection(input.clientToServer, 'client', notes);
  const s2c = scanDirection(input.serverToClient, 'server', notes);

  const chMsg = c2s.handshake[0];
  if (!chMsg || chMsg.msgType !== HANDSHAKE_TYPE.client_hello) {
    return blank(notes, { outcome: 'failed', reason: 'the client stream does not start with a ClientHello' });
  }
  const ch = parseClientHello(chMsg.body);
  notes.push(`ClientHello: offers up to ${versionName(ch.maxVersion)}, ${ch.cipherSuites.length} suites${ch.serverName ? `, SNI ${ch.serverName}` : ''}`);

  const shMsg = s2c.handshake[0];
  if (!shMsg || shMsg.msgType !== HANDSHAKE_TYPE.server_hello) {
    const why = s2c.alerts.length > 0 ? `the server answered with alert ${s2c.alerts.join(', ')}` : 'the server stream has no ServerHello';
    return blank(notes, { outcome: 'failed', reason: why });
  }
  const sh = parseServerHello(shMsg.body);
  const base = {
    version: versionName(sh.selectedVersion),
    suite: sh.cipherSuite.name,
    extendedMasterSecret: ch.extendedMasterSecret && sh.extendedMasterSecret,
  };
  notes.push(`ServerHello: ${base.version}, ${base.suite}${sh.extendedMasterSecret ? ', extended_master_secret' : ''}${sh.encryptThenMac ? ', encrypt_then_mac' : ''}`);

  if (sh.selectedVersion === 0x0304) return tls13(sh, notes, base);
  if (sh.selectedVersion < 0x0301 || sh.selectedVersion > 0x0303) {
    return blank(notes, { ...base, outcome: 'unsupported', reason: `protocol version ${base.version} is not handled` });
  }
  const suite = sh.suite;
  if (!suite || suite.keyExchange === 'TLS13') {
    return blank(notes, { ...base, outcome: 'unsupported', reason: `cipher suite ${base.suite} is not in secchat's table` });
  }
  if (sh.compressionMethod !== 0) {
    return blank(notes, { ...base, keyExchange: suite.keyExchange, outcome: 'unsupported', reason: `compression method ${sh.compressionMethod} is not handled` });
  }

  // Abbreviated handshake (RFC 5246 §7.3, RFC 5077 §3.1): no Certificate, the server goes straight to ChangeCipherSpec.
  const hasCertificate = s2c.handshake.some((m) => m.msgType === HANDSHAKE_TYPE.certificate);
  if (!hasCertificate && s2c.sawChangeCipherSpec) {
    const byId = ch.sessionId.length > 0 && sh.sessionId.equals(ch.sessionId);
    const how = byId ? 'session ID' : ch.sessionTicket && ch.sessionTicket.length > 0 ? 'session ticket' : 'an earlier session';
    return blank(notes, {
      ...base,
      keyExchange: suite.keyExchange,
      outcome: 'resumed',
      reason: `resumed by ${how}: the master secret was made in an earlier handshake, which must be decrypted instead`,
    });
  }

  if (suite.keyExchange === 'ECDHE' || suite.keyExchange === 'DHE') return ephemeral12(suite, sh, s2c, notes, base);
  return rsa12(key, suite, ch, sh, c2s, s2c, notes, base);
}

type Base = Pick<RetroDecryptResult, 'version' | 'suite' | 'extendedMasterSecret'>;

function tls13(sh: ServerHello, notes: string[], base: Base): RetroDecryptResult {
  const group = sh.keyShareGroup?.name;
  if (sh.helloRetryRequest) notes.push(`HelloRetryRequest: the server asked for ${group ?? 'another group'}`);
  if (sh.preSharedKey) {
    return blank(notes, {
      ...base,
      keyExchange: 'TLS13',
      group,
      outcome: 'resumed',
      reason: `TLS 1.3 resumption with a pre-shared key${group ? ` (and ephemeral ${group})` : ''}: the certificate key was not used`,
    });
  }
  return blank(notes, {
    ...base,
    keyExchange: 'TLS13',
    group,
    outcome: 'ephemeral',
    reason: `ephemeral ${group ?? 'key share'}: TLS 1.3 always uses (EC)DHE, and the server key only signed the handshake`,
  });
}

function ephemeral12(suite: Readonly<CipherSuiteInfo>, sh: ServerHello, s2c: DirectionScan, notes: string[], base: Base): RetroDecryptResult {
  const ske = s2c.handshake.find((m) => m.msgType === HANDSHAKE_TYPE.server_key_exchange);
  let group: string | undefined;
  if (ske && suite.keyExchange === 'ECDHE') group = parseServerKeyExchangeEcdhe(ske.body, sh.selectedVersion).group.name;
  if (ske && suite.keyExchange === 'DHE') group = `DH-${parseServerKeyExchangeDhe(ske.body, sh.selectedVersion).primeBits}`;
  if (!ske) notes.push('no ServerKeyExchange in the recording');
  return blank(notes, {
    ...base,
    keyExchange: suite.keyExchange,
    group,
    outcome: 'ephemeral',
    reason: `ephemeral ${group ?? suite.keyExchange}: the server key only signed the handshake`,
  });
}

function rsa12(
  key: KeyObject,
  suite: Readonly<CipherSuiteInfo>,
  ch: ClientHello,
  sh: ServerHello,
  c2s: DirectionScan,
  s2c: DirectionScan,
  notes: string[],
  base: Base,
): RetroDecryptResult {
  const fail = (reason: string): RetroDecryptResult => blank(notes, { ...base, keyExchange: 'RSA', outcome: 'failed', reason });
  const version = sh.selectedVersion;

  // 1. The certificate: is the stolen key really this server's?
  const certMsg = s2c.handshake.find((m) => m.msgType === HANDSHAKE_TYPE.certificate);
  if (!certMsg) return fail('no Certificate in the recording (the server stream is cut short)');
  const chain = parseCertificateTls12(certMsg.body);
  if (chain.length === 0) return fail('the server sent an empty Certificate message');
  const leaf = new X509Certificate(chain[0]!);
  notes.push(`server certificate: ${distinguishedNameText(leaf.subject)}`);
  if (!spkiOf(leaf.publicKey).equals(spkiOf(key))) return fail('the stolen key does not match the server certificate in the recording');

  // 2. The transcript, in handshake order (RFC 5246 §7.3): ClientHello, the server's first flight up
  //    to ServerHelloDone, the client's flight up to ClientKeyExchange / CertificateVerify.
  const [serverFlight, serverAfterDone] = splitAt(s2c.handshake, HANDSHAKE_TYPE.server_hello_done);
  const clientFlight = c2s.handshake.slice(1);
  const [clientToCke, clientAfterCke] = splitAt(clientFlight, HANDSHAKE_TYPE.client_key_exchange);
  const ckeMsg = clientToCke[clientToCke.length - 1];
  if (!ckeMsg || ckeMsg.msgType !== HANDSHAKE_TYPE.client_key_exchange) return fail('no ClientKeyExchange in the recording');
  if (c2s.handshake.some((m) => m.msgType === HANDSHAKE_TYPE.certificate)) notes.push('the client authenticated with a certificate');

  // 3. The pre-master secret (RFC 5246 §7.4.7.1): 48 bytes, starting with ClientHello.client_version.
  const { encryptedPreMasterSecret } = parseClientKeyExchangeRsa(ckeMsg.body);
  const pms = rsaPkcs1v15Decrypt(key, encryptedPreMasterSecret);
  if (!pms) return fail('the encrypted pre-master secret has invalid PKCS#1 v1.5 padding under the stolen key');
  if (pms.length !== 48) return fail(`the pre-master secret is ${pms.length} bytes, not 48`);
  if (pms.readUInt16BE(0) !== ch.legacyVersion) {
    notes.push(`pre-master secret version 0x${pms.readUInt16BE(0).toString(16)} differs from ClientHello 0x${ch.legacyVersion.toString(16)}`);
  }
  notes.push('pre-master secret decrypted with the stolen key (RSAES-PKCS1-v1_5)');

  // 4. Master secret: extended from the session hash when negotiated (RFC 7627 §5.2: both sides).
  const kind: PrfKind = prfKindFor(version, suite.prfHash);
  const toCke = Buffer.concat([chMsg(c2s).raw, ...serverFlight.map((m) => m.raw), ...clientToCke.map((m) => m.raw)]);
  let master: Buffer;
  if (base.extendedMasterSecret) {
    master = extendedMasterSecret(kind, pms, handshakeHash(kind, toCke));
    notes.push(`master secret: extended (RFC 7627), session hash over ${toCke.length} bytes of handshake`);
  } else {
    master = masterSecret(kind, pms, ch.random, sh.random);
    notes.push('master secret: classic (RFC 5246 §8.1) from the two hello randoms');
  }
  const keyLogLine = `CLIENT_RANDOM ${ch.random.toString('hex')} ${master.toString('hex')}`;

  // 5. Keys and record decryption, one direction at a time.
  const keys = deriveKeys(kind, version, suite.cipher, suite.mac, master, ch.random, sh.random);
  const etm = sh.encryptThenMac && suite.mac !== null;
  const clientDec = new RecordDecryptor({ version, cipher: suite.cipher, mac: suite.mac, keys: keys.client, encryptThenMac: etm });
  const serverDec = new RecordDecryptor({ version, cipher: suite.cipher, mac: suite.mac, keys: keys.server, encryptThenMac: etm });

  const clientSide = openDirection('client', c2s, clientDec, notes);
  const transcriptToClientFinished = Buffer.concat([toCke, ...clientAfterCke.map((m) => m.raw)]);
  const clientFinishedOk = checkFinished('client', clientSide.finished, kind, master, transcriptToClientFinished, notes);

  const serverSide = openDirection('server', s2c, serverDec, notes);
  // Server Finished covers the client's Finished and anything the server sent after ServerHelloDone (NewSessionTicket).
  const transcriptToServerFinished = Buffer.concat([
    transcriptToClientFinished,
    ...(clientSide.finished ? [clientSide.finished.raw] : []),
    ...serverAfterDone.map((m) => m.raw),
  ]);
  const serverFinishedOk = checkFinished('server', serverSide.finished, kind, master, transcriptToServerFinished, notes);

  const finishedVerified = { client: clientSide.finished ? clientFinishedOk : null, server: serverSide.finished ? serverFinishedOk : null };
  const result = {
    ...base,
    keyExchange: 'RSA' as const,
    keyLogLine,
    finishedVerified,
    clientPlaintext: clientSide.plaintext,
    serverPlaintext: serverSide.plaintext,
  };
  if (clientSide.error && clientSide.recordsOpened === 0) {
    return blank(notes, { ...result, outcome: 'failed', reason: `the derived keys do not open the client's records: ${clientSide.error}` });
  }
  if (clientFinishedOk === false || serverFinishedOk === false) {
    return blank(notes, { ...result, outcome: 'failed', reason: 'a Finished verify_data does not match: the key derivation is wrong' });
  }
  return blank(notes, {
    ...result,
    outcome: 'decrypted',
    reason: `RSA key transport: the stolen key decrypted the pre-master secret; ${result.clientPlaintext.length + result.serverPlaintext.length} bytes of application data recovered`,
  });
}

function chMsg(c2s: DirectionScan): HandshakeMessage {
  return c2s.handshake[0]!;
}
