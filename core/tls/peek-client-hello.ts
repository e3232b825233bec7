/**
 * Peeking at the start of a connection: is it TLS, and what does its ClientHello offer? Combines
 * the record reader (RFC 5246 §6.2.1), handshake reassembly (RFC 5246 §7.4) and the ClientHello
 * parser (RFC 8446 §4.1.2) and never throws, because a proxy calls it on arbitrary bytes.
 */
import { parseClientHello, type ClientHello } from './client-hello.ts';
import { HandshakeReassembler } from './handshake-reassembly.ts';
import { TlsRecordReader } from './record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE } from './registry.ts';

/** What {@link peekClientHello} could tell from the first bytes of a connection. */
export interface ClientHelloPeek {
  /**
   * The bytes look like TLS. When `complete` is false this is provisional (true as long as the
   * bytes seen fit a TLS handshake record, false with no bytes at all).
   */
  isTls: boolean;
  /** True when the verdict is final: the whole ClientHello was parsed, or the bytes are not TLS. */
  complete: boolean;
  hello?: ClientHello;
  /** Why the bytes are not TLS (or not a valid ClientHello), when `isTls` is false and `complete`. */
  error?: string;
}

/**
 * Look at the first bytes a client sent and decide whether the stream is TLS and what it offers.
 * Never throws: a proxy calls it on arbitrary input. Handles a ClientHello split over several
 * records. Call again with more bytes while `complete` is false.
 */
export function peekClientHello(bytes: Buffer): ClientHelloPeek {
  if (bytes.length === 0) return { isTls: false, complete: false };
  if (bytes[0] !== CONTENT_TYPE.handshake) return { isTls: false, complete: true, error: `first byte 0x${bytes[0]!.toString(16)} is not a TLS handshake record` };
  if (bytes.length >= 2 && bytes[1] !== 3) return { isTls: false, complete: true, error: `record version major ${bytes[1]} is not 3` };
  try {
    const reader = new TlsRecordReader();
    reader.push(bytes);
    const hs = new HandshakeReassembler();
    for (let rec = reader.next(); rec; rec = reader.next()) {
      if (rec.type !== CONTENT_TYPE.handshake) {
        return { isTls: false, complete: true, error: `record of type ${rec.type} before the ClientHello was complete` };
      }
      hs.push(rec.fragment);
      const msg = hs.next();
      if (msg) {
        if (msg.msgType !== HANDSHAKE_TYPE.client_hello) {
          return { isTls: false, complete: true, error: `first handshake message has type ${msg.msgType}, not client_hello` };
        }
        return { isTls: true, complete: true, hello: parseClientHello(msg.body) };
      }
    }
    // Check the first handshake header early so garbage with a lucky first byte is rejected soon.
    if (bytes.length >= 6 && bytes[5] !== HANDSHAKE_TYPE.client_hello) {
      return { isTls: false, complete: true, error: `first handshake message has type ${bytes[5]}, not client_hello` };
    }
    return { isTls: true, complete: false };
  } catch (err) {
    return { isTls: false, complete: true, error: err instanceof Error ? err.message : String(err) };
  }
}
