/**
 * The benchmark's yardstick: the smallest reasonable Node TLS broadcast server. Newline-framed,
 * no authentication, no storage, no validation, no limits — each line a client sends is written,
 * as the same Buffer, to every other client. It greets each client with `{"type":"hello"}` so the
 * load generator knows the server has registered it before any broadcast.
 *
 * secchat's figures are quoted as ratios to this server driven by the same load generator
 * (bench/load.ts) on the same machine in the same run: what the chat's framing, JSON handling,
 * authentication state, limits and backpressure cost over bare TLS fan-out.
 */
import net from 'node:net';
import tls from 'node:tls';

/** A running baseline server. */
export interface BaselineServer {
  readonly port: number;
  /** Clients connected now. */
  connectionCount(): number;
  close(): Promise<void>;
}

const HELLO = Buffer.from('{"type":"hello"}\n');

/**
 * Starts the baseline broadcast server.
 * @param opts.tls  node:tls server options (certificate, versions, ciphers), or null for plain TCP
 * @param opts.host interface; default 127.0.0.1
 * @param opts.port TCP port; default 0 (any free one)
 * @throws whatever listen throws (EADDRINUSE...) and tls.createServer for bad TLS options
 */
export async function startBaselineServer(opts: { tls: tls.TlsOptions | null; host?: string; port?: number }): Promise<BaselineServer> {
  const clients = new Set<net.Socket>();
  const onClient = (socket: net.Socket) => {
    clients.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => clients.delete(socket));
    socket.write(HELLO);
    let pending: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      const data = pending ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
        const line = data.subarray(start, nl + 1);
        for (const c of clients) if (c !== socket) c.write(line);
        start = nl + 1;
      }
      pending = start < data.length ? data.subarray(start) : null;
    });
  };
  const server = opts.tls ? tls.createServer(opts.tls, onClient) : net.createServer(onClient);
  if (opts.tls) server.on('tlsClientError', (_err, s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connectionCount: () => clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.destroy();
        server.close(() => resolve());
      }),
  };
}
