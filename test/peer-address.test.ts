/**
 * A connection's peer address (server/connection-limits.ts peerOf, tcpSocketOf): read from the
 * TCP socket beneath TLS, where admission at accept already read and cached it — not through the
 * TLS socket, which would cost a getpeername system call per connection — and still readable
 * after the socket closed (logins and log lines may read it late).
 */
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import tls from 'node:tls';
import { peerOf, tcpSocketOf } from '../server/connection-limits.ts';
import { rsaTestCert } from './helpers/test-cert.ts';

/** Accepts one connection on `server`, connects `connect()` to it, and resolves the server side. */
async function acceptOne<S extends net.Socket>(server: net.Server, event: string, connect: (port: number) => net.Socket): Promise<{ served: S; client: net.Socket }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const served = new Promise<S>((r) => server.once(event, (s: S) => r(s)));
  const client = connect((server.address() as net.AddressInfo).port);
  client.on('error', () => {});
  return { served: await served, client };
}

describe('peerOf', () => {
  it('names a TLS connection by the TCP socket beneath it, without asking the TLS socket', async () => {
    const server = tls.createServer({ cert: rsaTestCert().certPem, key: rsaTestCert().keyPem });
    let rawAddress: string | undefined;
    server.prependListener('connection', (raw: net.Socket) => void (rawAddress = raw.remoteAddress)); // what admission reads
    const { served, client } = await acceptOne<tls.TLSSocket>(server, 'secureConnection', (port) => tls.connect({ port, host: '127.0.0.1', ca: rsaTestCert().certPem, servername: 'localhost' }));
    try {
      expect(tcpSocketOf(served)).not.toBe(served);
      let askedTls = 0;
      const own = served as tls.TLSSocket & { _getpeername: () => unknown };
      const original = own._getpeername;
      own._getpeername = function (this: unknown) {
        askedTls++;
        return original.call(this);
      };
      expect(peerOf(served)).toBe(`${rawAddress}:${client.localPort}`);
      expect(askedTls).toBe(0);
      served.destroy();
      await new Promise((r) => served.once('close', r));
      expect(peerOf(served)).toBe(`127.0.0.1:${client.localPort}`); // cached at accept, readable after close
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('names a plain TCP connection by itself, and says "unknown" for a socket never connected', async () => {
    const server = net.createServer();
    const { served, client } = await acceptOne<net.Socket>(server, 'connection', (port) => net.connect({ port, host: '127.0.0.1' }));
    try {
      expect(tcpSocketOf(served)).toBe(served);
      expect(peerOf(served)).toBe(`127.0.0.1:${client.localPort}`);
      expect(peerOf(new net.Socket())).toBe('unknown');
    } finally {
      client.destroy();
      served.destroy();
      server.close();
    }
  });
});
