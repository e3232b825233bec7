/**
 * Annotated bytes of one direction of a TLS connection: each record header (RFC 5246 §6.2.1,
 * RFC 8446 §5.1), each plaintext handshake message (RFC 8446 §4) with its header and — for a
 * ClientHello (§4.1.2) or ServerHello (§4.1.3) — every field with its offset, length, raw bytes and
 * decoded value, change_cipher_spec and plaintext alerts (RFC 5246 §7.1, §7.2), and runs of
 * encrypted records summarised. The hello fields come from the same parsers the proxy uses, run with
 * a {@link FieldLog} (`byte-cursor.ts`), so what is printed is what secchat decodes.
 *
 * Pure: a byte stream in, plain data out (`secchat explain` renders it). Never throws: what cannot
 * be parsed ends the list with an `error` item that says why.
 */
import { ALERT_LEVEL, alertName } from './alerts.ts';
import { FieldLog, type AnnotatedField } from './byte-cursor.ts';
import { parseClientHello } from './client-hello.ts';
import { HandshakeReassembler } from './handshake-reassembly.ts';
import { RECORD_HEADER_BYTES, TlsRecordReader, tlsStart } from './record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE, versionLabel } from './registry.ts';
import { parseServerHello } from './server-hello.ts';

/** Who sent the bytes. */
export type Sender = 'client' | 'server';

/** One thing `secchat explain` prints. */
export interface ExplainedItem {
  from: Sender;
  /** Offset of the item's first byte in the sender's TCP stream (for a handshake message: of the record that began it). */
  streamOffset: number;
  /**
   * - `preamble`: bytes before the first TLS record (a STARTTLS greeting).
   * - `record`: one record header; plus the body of a change_cipher_spec or plaintext alert.
   * - `handshake`: one reassembled plaintext handshake message; field offsets count from its header.
   * - `encrypted`: a run of records whose content only the endpoints' keys open.
   * - `error`: why the rest of the stream is not explained.
   */
  kind: 'preamble' | 'record' | 'handshake' | 'encrypted' | 'error';
  /** e.g. 'ClientHello', 'record: handshake', '3 encrypted records'. */
  title: string;
  fields: AnnotatedField[];
}

const CONTENT_NAMES = new Map<number, string>(Object.entries(CONTENT_TYPE).map(([k, v]) => [v, k]));
const HANDSHAKE_NAMES = new Map<number, string>(Object.entries(HANDSHAKE_TYPE).map(([k, v]) => [v, k]));
/** Message names as the RFCs write them in prose. */
const HANDSHAKE_TITLES: Record<string, string> = {
  client_hello: 'ClientHello',
  server_hello: 'ServerHello',
  new_session_ticket: 'NewSessionTicket',
  encrypted_extensions: 'EncryptedExtensions',
  certificate: 'Certificate',
  server_key_exchange: 'ServerKeyExchange',
  certificate_request: 'CertificateRequest',
  server_hello_done: 'ServerHelloDone',
  certificate_verify: 'CertificateVerify',
  client_key_exchange: 'ClientKeyExchange',
  finished: 'Finished',
};

/** Name of a content type ('handshake'), or its number. */
export function contentTypeName(type: number): string {
  return CONTENT_NAMES.get(type) ?? String(type);
}

/** Name of a handshake type ('client_hello'), or its number. */
export function handshakeTypeName(type: number): string {
  return HANDSHAKE_NAMES.get(type) ?? String(type);
}

/** `1 byte`, `2 bytes`. */
function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function field(offset: number, raw: Buffer, name: string, value: string | undefined, depth = 0): AnnotatedField {
  return { offset, length: raw.length, name, depth, raw, value };
}

/**
 * Explain one direction of a connection.
 * @param stream every byte `from` sent, in order (a reassembled TCP stream)
 * @param maxItems stop after this many items (a long session is mostly encrypted records anyway)
 * @returns the items in stream order; empty for an empty stream
 */
export function explainTlsStream(stream: Buffer, from: Sender, maxItems = 200): ExplainedItem[] {
  const items: ExplainedItem[] = [];
  if (stream.length === 0) return items;
  const start = tlsStart(stream, from === 'client' ? HANDSHAKE_TYPE.client_hello : HANDSHAKE_TYPE.server_hello);
  if (start < 0) {
    items.push({ from, streamOffset: 0, kind: 'error', title: `no TLS ${from === 'client' ? 'ClientHello' : 'ServerHello'} record in these ${stream.length} bytes`, fields: [] });
    return items;
  }
  if (start > 0) {
    const pre = stream.subarray(0, start);
    items.push({ from, streamOffset: 0, kind: 'preamble', title: `${start} bytes before TLS (a STARTTLS greeting?)`, fields: [field(0, pre, 'preamble', JSON.stringify(pre.toString('latin1')))] });
  }
  const reader = new TlsRecordReader();
  reader.push(stream.subarray(start));
  const hs = new HandshakeReassembler();
  let messageStart = start;
  let encrypted: ExplainedItem | null = null;
  // After this sender's change_cipher_spec (TLS ≤ 1.2) its handshake and alert records are encrypted.
  let sentCcs = false;
  const closeRun = () => {
    if (encrypted) items.push(encrypted);
    encrypted = null;
  };
  try {
    for (let rec = reader.next(); rec && items.length < maxItems; rec = reader.next()) {
      const at = start + rec.offset;
      const header = stream.subarray(at, at + RECORD_HEADER_BYTES);
      const isEncrypted = rec.type === CONTENT_TYPE.application_data || (sentCcs && rec.type !== CONTENT_TYPE.change_cipher_spec);
      if (isEncrypted) {
        encrypted ??= { from, streamOffset: at, kind: 'encrypted', title: '', fields: [] };
        encrypted.fields.push(field(at, stream.subarray(at, at + RECORD_HEADER_BYTES + rec.fragment.length), contentTypeName(rec.type), `${rec.fragment.length} bytes of ciphertext`));
        const n = encrypted.fields.length;
        const bytes = encrypted.fields.reduce((sum, f) => sum + f.length, 0);
        encrypted.title = `${n} encrypted record${n === 1 ? '' : 's'}, ${bytes} bytes (the rest of the handshake and application data: only the session keys open them)`;
        continue;
      }
      closeRun();
      const fields = [
        field(at, header.subarray(0, 1), 'content_type', `${contentTypeName(rec.type)} (${rec.type})`),
        field(at + 1, header.subarray(1, 3), 'legacy_record_version', versionLabel(rec.version)),
        field(at + 3, header.subarray(3, 5), 'length', plural(rec.fragment.length, 'byte')),
      ];
      const body = stream.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + rec.fragment.length);
      if (rec.type === CONTENT_TYPE.change_cipher_spec) {
        fields.push(field(at + RECORD_HEADER_BYTES, body, 'change_cipher_spec', body.length === 1 && body[0] === 1 ? 'change_cipher_spec (1)' : 'malformed'));
        sentCcs = true;
      } else if (rec.type === CONTENT_TYPE.alert && body.length === 2) {
        const level = body[0] === ALERT_LEVEL.fatal ? 'fatal' : body[0] === ALERT_LEVEL.warning ? 'warning' : String(body[0]);
        fields.push(field(at + 5, body.subarray(0, 1), 'level', `${level} (${body[0]})`), field(at + 6, body.subarray(1, 2), 'description', `${alertName(body[1]!)} (${body[1]})`));
      }
      items.push({ from, streamOffset: at, kind: 'record', title: `record: ${contentTypeName(rec.type)}`, fields });
      if (rec.type !== CONTENT_TYPE.handshake) continue;
      if (!hs.hasPartialMessage) messageStart = at;
      hs.push(rec.fragment);
      for (let msg = hs.next(); msg; msg = hs.next()) {
        items.push(explainHandshakeMessage(msg.msgType, msg.raw, from, messageStart));
        messageStart = at;
      }
    }
    closeRun();
    const leftover = stream.length - start - reader.offset;
    if (leftover > 0 && items.length < maxItems) {
      items.push({ from, streamOffset: start + reader.offset, kind: 'error', title: `${leftover} bytes of an incomplete record at the end (the capture stopped mid-record)`, fields: [] });
    }
  } catch (err) {
    closeRun();
    items.push({ from, streamOffset: start + reader.offset, kind: 'error', title: `not TLS from here on: ${(err as Error).message}`, fields: [] });
  }
  return items;
}

/**
 * One plaintext handshake message, annotated: the 4-byte header, then the body — field by field for
 * a ClientHello or ServerHello, as one field for the others. Offsets count from the header.
 */
export function explainHandshakeMessage(msgType: number, raw: Buffer, from: Sender, streamOffset: number): ExplainedItem {
  const name = handshakeTypeName(msgType);
  const title = HANDSHAKE_TITLES[name] ?? `handshake message ${name}`;
  const body = raw.subarray(4);
  const fields = [field(0, raw.subarray(0, 1), 'msg_type', `${name} (${msgType})`), field(1, raw.subarray(1, 4), 'length', `${body.length} bytes`)];
  const log = new FieldLog(body, 4);
  try {
    if (msgType === HANDSHAKE_TYPE.client_hello) parseClientHello(body, log);
    else if (msgType === HANDSHAKE_TYPE.server_hello) parseServerHello(body, log);
    else if (body.length > 0) fields.push(field(4, body, 'body', `${body.length} bytes`));
  } catch (err) {
    // Keep what was read before the malformed field, and say where it went wrong.
    return { from, streamOffset, kind: 'handshake', title: `${title} (malformed: ${(err as Error).message})`, fields: [...fields, ...log.sorted()] };
  }
  return { from, streamOffset, kind: 'handshake', title, fields: [...fields, ...log.sorted()] };
}

