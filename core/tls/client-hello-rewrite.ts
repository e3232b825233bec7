/**
 * Rewriting a ClientHello's cipher_suites on the wire (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2), as a
 * keyless on-path attacker does to strip the strong suites from an offer. Nothing in the hello
 * itself protects the list; what catches the rewrite is the handshake transcript: the Finished
 * messages hash every handshake byte each side saw (RFC 5246 §7.4.9), and TLS 1.3 feeds the
 * transcript into the key schedule (RFC 8446 §4.4.1, §7.1), so the two ends derive different keys.
 *
 * Pure: bytes in, bytes out. The result is a valid ClientHello record: the cipher_suites vector,
 * the handshake length (uint24) and the record length (uint16) are all rewritten.
 */
import { ProtocolError } from '../errors.ts';
import { parseClientHello } from './client-hello.ts';
import { encodeHandshakeMessage, HandshakeReassembler } from './handshake-reassembly.ts';
import { encodeRecord, TlsRecordReader } from './record-layer.ts';
import { CONTENT_TYPE, EXTENSION_TYPE, HANDSHAKE_TYPE } from './registry.ts';

/** Options of {@link rewriteClientHelloSuites}. */
export interface ClientHelloRewriteOptions {
  /**
   * Replace the supported_versions extension's list (RFC 8446 §4.2.1; wire values, e.g. 0x0303)
   * with this one, e.g. to take TLS 1.3 out of an offer whose 1.3 suites were stripped. Ignored when
   * the hello has no such extension. The extension keeps its place; the extensions length is fixed.
   */
  supportedVersions?: number[];
}

/** Largest plaintext fragment a record may carry (RFC 8446 §5.1: 2^14). */
const MAX_PLAINTEXT_FRAGMENT_BYTES = 2 ** 14;

/**
 * Replaces the cipher_suites of the ClientHello at the start of `record` with exactly `keep`, in
 * that order, and re-frames it: one handshake message with its uint24 length fixed, carried in
 * records (split at 2^14 bytes, RFC 8446 §5.1) that keep the first record's legacy_record_version.
 * Every other field — random, session_id, compression, extensions — is copied byte for byte.
 * Bytes after the ClientHello's last record (a pipelined record) are appended unchanged.
 * @param record one or more TLS records whose first handshake message is a ClientHello
 *   (it may span several records, as peek-client-hello.ts gathers it)
 * @param keep cipher suite wire values (uint16), 1 … 32767 of them
 * @param opts also replace the supported_versions list (see {@link ClientHelloRewriteOptions})
 * @returns the rewritten record bytes
 * @throws RangeError when `keep` is empty, too long, or holds a value outside 0 … 0xffff, or
 *   `opts.supportedVersions` is empty, over 127 entries or not uint16 values
 * @throws ProtocolError when `record` does not start with a whole, well-formed ClientHello
 */
export function rewriteClientHelloSuites(record: Buffer, keep: number[], opts: ClientHelloRewriteOptions = {}): Buffer {
  if (keep.length === 0) throw new RangeError('rewriteClientHelloSuites: keep must name at least one cipher suite (RFC 5246 §7.4.1.2: cipher_suites<2..2^16-2>)');
  if (keep.length > 0x7fff) throw new RangeError(`rewriteClientHelloSuites: ${keep.length} suites do not fit cipher_suites<2..2^16-2>`);
  for (const s of keep) if (!Number.isInteger(s) || s < 0 || s > 0xffff) throw new RangeError(`rewriteClientHelloSuites: cipher suite ${s} is not a uint16`);
  const versions = opts.supportedVersions;
  if (versions && (versions.length === 0 || versions.length > 127 || versions.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffff))) {
    throw new RangeError(`rewriteClientHelloSuites: supportedVersions must hold 1 … 127 uint16 values (RFC 8446 §4.2.1: versions<2..254>), got ${JSON.stringify(versions)}`);
  }

  const reader = new TlsRecordReader();
  reader.push(record);
  const hs = new HandshakeReassembler();
  let version: number | null = null;
  let msg: ReturnType<HandshakeReassembler['next']> = null;
  while (!msg) {
    const rec = reader.next();
    if (!rec) break;
    if (rec.type !== CONTENT_TYPE.handshake) throw new ProtocolError(`ClientHello rewrite: record of type ${rec.type} before the ClientHello was complete`, { field: 'record.type', value: rec.type });
    version ??= rec.version;
    hs.push(rec.fragment);
    msg = hs.next();
  }
  if (!msg || version === null) throw new ProtocolError('ClientHello rewrite: the bytes end before the ClientHello does', { field: 'ClientHello' });
  if (msg.msgType !== HANDSHAKE_TYPE.client_hello) throw new ProtocolError(`ClientHello rewrite: first handshake message has type ${msg.msgType}, not client_hello`, { field: 'handshake.msg_type', value: msg.msgType });
  // A second message in the hello's last record cannot be legal before the ServerHello; refuse it
  // rather than drop it silently.
  if (hs.hasPartialMessage) throw new ProtocolError('ClientHello rewrite: more handshake bytes follow the ClientHello in its record', { field: 'handshake' });
  parseClientHello(msg.body); // validates every field (throws ProtocolError), so the offsets below are in bounds

  const body = msg.body;
  const suitesAt = 2 + 32 + 1 + body[34]!; // legacy_version, random, session_id<0..32>
  const oldLen = body.readUInt16BE(suitesAt);
  const suites = Buffer.alloc(2 + keep.length * 2);
  suites.writeUInt16BE(keep.length * 2, 0);
  keep.forEach((s, i) => suites.writeUInt16BE(s, 2 + i * 2));
  let newBody: Buffer = Buffer.concat([body.subarray(0, suitesAt), suites, body.subarray(suitesAt + 2 + oldLen)]);
  if (opts.supportedVersions) newBody = replaceSupportedVersions(newBody, suitesAt + suites.length, opts.supportedVersions);
  const message = encodeHandshakeMessage(HANDSHAKE_TYPE.client_hello, newBody);

  const out: Buffer[] = [];
  for (let at = 0; at < message.length; at += MAX_PLAINTEXT_FRAGMENT_BYTES) {
    const fragment = message.subarray(at, at + MAX_PLAINTEXT_FRAGMENT_BYTES);
    out.push(encodeRecord(CONTENT_TYPE.handshake, version, fragment));
  }
  out.push(record.subarray(reader.offset));
  return Buffer.concat(out);
}

/**
 * `body` (a ClientHello body already validated) with the supported_versions list replaced;
 * `compressionAt` is the offset of compression_methods. The extension keeps its place.
 */
function replaceSupportedVersions(body: Buffer, compressionAt: number, versions: number[]): Buffer {
  const extsAt = compressionAt + 1 + body[compressionAt]!;
  if (extsAt >= body.length) return body; // no extensions at all
  const parts: Buffer[] = [];
  for (let at = extsAt + 2; at < body.length; ) {
    const type = body.readUInt16BE(at);
    const len = body.readUInt16BE(at + 2);
    if (type === EXTENSION_TYPE.supported_versions) {
      const data = Buffer.alloc(1 + versions.length * 2);
      data[0] = versions.length * 2;
      versions.forEach((v, i) => data.writeUInt16BE(v, 1 + i * 2));
      const head = Buffer.alloc(4);
      head.writeUInt16BE(type, 0);
      head.writeUInt16BE(data.length, 2);
      parts.push(head, data);
    } else parts.push(body.subarray(at, at + 4 + len));
    at += 4 + len;
  }
  const exts = Buffer.concat(parts);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(exts.length);
  return Buffer.concat([body.subarray(0, extsAt), extLen, exts]);
}
