/**
 * Capture the first bytes a real `tls.connect` client sends: a raw `net` server on 127.0.0.1:0
 * reads until a whole ClientHello has arrived, then hangs up (the client's handshake fails, as
 * expected). The bytes are exactly what a proxy would peek at.
 */
import net from 'node:net';
import tls from 'node:tls';
import { peekClientHello } from '../../core/tls/peek-client-hello.ts';

export async function captureClientHello(options: tls.ConnectionOptions = {}): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const bytes = new Promise<Buffer>((resolve, reject) => {
      server.once('connection', (sock) => {
        let buf = Buffer.alloc(0);
        sock.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (peekClientHello(buf).complete) {
            sock.destroy();
            resolve(buf);
          }
        });
        sock.on('error', reject);
      });
    });
    const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ...options });
    client.on('error', () => {}); // we hang up on purpose
    const out = await bytes;
    client.destroy();
    return out;
  } finally {
    server.close();
  }
}
