/**
 * The key-exchange group a TLS server's first flight shows, read from its bytes: the ServerHello's
 * key_share in TLS 1.3 (RFC 8446 §4.2.8; a HelloRetryRequest is skipped, §4.1.4), the
 * ServerKeyExchange in TLS 1.0–1.2 (ECDHE: RFC 8422 §5.4, the named curve; DHE: RFC 5246 §7.4.3,
 * the prime's size), or none (static-RSA key transport sends no ServerKeyExchange, RFC 5246
 * §7.4.3). Node answers `getEphemeralKeyInfo()` on a client socket only, so a server — the
 * attacker's side of a TLS hop it terminated — reads the group from what it sent. Pure.
 */
import { parseServerKeyExchangeDhe, parseServerKeyExchangeEcdhe } from './key-exchange.ts';
import { HandshakeReassembler } from './handshake-reassembly.ts';
import { TlsRecordReader, tlsStart } from './record-layer.ts';
import { CONTENT_TYPE, HANDSHAKE_TYPE } from './registry.ts';
import { parseServerHello, type ServerHello } from './server-hello.ts';

/**
 * The group of the key exchange in `s2c`, the bytes a TLS server wrote from the start of its
 * ServerHello (anything before it — a plaintext STARTTLS greeting — is skipped).
 * @param s2c the server-to-client byte stream, whole or its beginning
 * @returns `{ group }` when the flight tells: a group name in node's spelling (`X25519`, `P-256`,
 *   `DH-2048` for finite-field DHE, as `negotiatedOf` names it), or `group: null` when there is no
 *   (EC)DHE (static-RSA key transport; TLS 1.3 resumption without a key share). `null` when the
 *   flight cannot tell: no ServerHello, a cut stream, or bytes that do not parse. Never throws.
 */
export function serverFlightGroup(s2c: Buffer): { group: string | null } | null {
  const at = tlsStart(s2c, HANDSHAKE_TYPE.server_hello);
  if (at < 0) return null;
  try {
    const records = new TlsRecordReader();
    records.push(s2c.subarray(at));
    const messages = new HandshakeReassembler();
    let hello: ServerHello | null = null;
    for (let rec = records.next(); rec; rec = records.next()) {
      // TLS 1.3's middlebox-compatibility ChangeCipherSpec may follow a HelloRetryRequest; in
      // TLS 1.2 it comes after ServerHelloDone, where this reading has already returned.
      if (rec.type === CONTENT_TYPE.change_cipher_spec) continue;
      if (rec.type !== CONTENT_TYPE.handshake) return null; // encrypted or an alert: nothing more to read
      messages.push(rec.fragment);
      for (let msg = messages.next(); msg; msg = messages.next()) {
        if (msg.msgType === HANDSHAKE_TYPE.server_hello) {
          const sh = parseServerHello(msg.body);
          if (sh.helloRetryRequest) continue; // the real ServerHello follows the client's second hello
          if (sh.selectedVersion === 0x0304) return { group: sh.keyShareGroup?.name ?? null };
          hello = sh;
        } else if (!hello) {
          return null;
        } else if (msg.msgType === HANDSHAKE_TYPE.server_key_exchange) {
          const kx = hello.suite?.keyExchange;
          if (kx === 'ECDHE') return { group: parseServerKeyExchangeEcdhe(msg.body, hello.selectedVersion).group.name };
          if (kx === 'DHE') return { group: `DH-${parseServerKeyExchangeDhe(msg.body, hello.selectedVersion).primeBits}` };
          return null; // a suite secchat's table does not know: do not guess
        } else if (msg.msgType === HANDSHAKE_TYPE.server_hello_done) {
          return { group: null };
        }
      }
    }
  } catch {
    // A flight that does not parse tells nothing.
  }
  return null;
}
