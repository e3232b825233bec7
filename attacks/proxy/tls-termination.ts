/**
 * TLS termination for the proxy: the attacker's server-side TLS context (the certificate it shows
 * the victim, any version down to TLS 1.0 — RFC 2246 — and any suite), its own client
 * connection to the real server, and the tap that keeps the wire bytes of both hops observable
 * under the TLS sockets the engine puts on them.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import type { CertKeyPem } from '../../core/tls/node-options.ts';


/**
 * The attacker's server-side TLS context for `identity`: any version down to TLS 1.0 and any
 * suite. The security level is lowered *before* the certificate is loaded, because OpenSSL checks
 * a certificate against the level when it is set: a SHA-1-signed or RSA-1024 certificate (the
 * certificate gallery) is refused by a context built in one step ("ca md too weak").
 * `ciphers` (OpenSSL cipher string) replaces "any suite" when the attacker picks the suite.
 */
export function attackerSecureContext(identity: CertKeyPem, maxVersion?: tls.SecureVersion, ciphers?: string): tls.SecureContext {
  const ctx = tls.createSecureContext({ minVersion: 'TLSv1', ...(maxVersion ? { maxVersion } : {}), ciphers: ciphers ?? 'ALL:eNULL:@SECLEVEL=0' });
  const native = (ctx as unknown as { context: { setKey(key: string, pass?: string): void; setCert(cert: string): void } }).context;
  native.setKey(identity.keyPem, undefined);
  native.setCert(identity.certPem);
  return ctx;
}

/** Wraps a socket as a Duplex whose readable side starts with `head` — so a TLS layer can be put
 * on a stream after we have already read its first bytes — and reports every raw chunk read and
 * written, so the wire stays observable under TLS. */
export function tappedDuplex(raw: net.Socket, head: Buffer | null, onRead: (d: Buffer) => void, onWrite: (d: Buffer) => void): Duplex {
  const d = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      onWrite(chunk);
      raw.write(chunk, cb);
    },
    final(cb) {
      raw.end();
      cb();
    },
    destroy(err, cb) {
      raw.destroy();
      cb(err);
    },
  });
  if (head?.length) {
    onRead(head);
    d.push(head);
  }
  raw.removeAllListeners('data');
  raw.on('data', (chunk: Buffer) => {
    onRead(chunk);
    if (!d.push(chunk)) raw.pause();
  });
  raw.on('end', () => d.push(null));
  raw.on('close', () => d.destroy());
  raw.on('error', (e) => d.destroy(e));
  return d;
}

/** Observers of the raw bytes under both terminated hops (what a wire tap records). */
export interface HopTaps {
  /** ciphertext the victim sent (c2s) and the attacker sent it (s2c), on the client hop */
  clientRead(d: Buffer): void;
  clientWrite(d: Buffer): void;
  /** ciphertext the server sent (s2c) and the attacker sent it (c2s), on the server hop */
  serverRead(d: Buffer): void;
  serverWrite(d: Buffer): void;
}

/**
 * Puts TLS on both hops of one connection: a server-side TLS socket towards the victim, presenting
 * `identity` (its handshake starts with `hello`, the ClientHello already read), and the attacker's
 * own TLS client towards the server with SNI `servername`. The attacker does not verify the server
 * and accepts any version or suite, down to TLS 1.0. Listeners (data, errors, close) are the
 * caller's.
 */
export function terminateHops(clientRaw: net.Socket, serverRaw: net.Socket, hello: Buffer, identity: CertKeyPem, servername: string | undefined, taps: HopTaps, maxVersion?: tls.SecureVersion, ciphers?: string): { clientTls: tls.TLSSocket; serverTls: tls.TLSSocket } {
  const clientDuplex = tappedDuplex(clientRaw, hello, taps.clientRead, taps.clientWrite);
  const serverDuplex = tappedDuplex(serverRaw, null, taps.serverRead, taps.serverWrite);
  // The attacker accepts any version or cipher the victim offers, down to TLS 1.0 (and, when the
  // addon caps it, no higher than maxVersion; with `ciphers`, only those suites).
  const clientTls = new tls.TLSSocket(clientDuplex, { isServer: true, secureContext: attackerSecureContext(identity, maxVersion, ciphers) });
  const serverTls = tls.connect({
    socket: serverDuplex,
    servername,
    rejectUnauthorized: false, // the attacker does not care who the server is
    minVersion: 'TLSv1',
    ciphers: 'ALL:eNULL:@SECLEVEL=0',
  });
  return { clientTls, serverTls };
}
