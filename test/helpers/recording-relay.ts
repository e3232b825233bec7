/**
 * A passive TCP relay for tests: a `net` server on 127.0.0.1:0 that forwards each accepted
 * connection to a target port and records both directions byte for byte, with arrival times —
 * what an eavesdropper on the wire would have (record now, decrypt later).
 */
import net from 'node:net';

export interface RecordedEvent {
  dir: 'c2s' | 's2c';
  data: Buffer;
  /** Wall-clock time of arrival at the relay, ms since the epoch. */
  timeMs: number;
}

export interface RecordedConnection {
  events: RecordedEvent[];
  /** Resolves when both sides have closed. */
  closed: Promise<void>;
  clientToServer(): Buffer;
  serverToClient(): Buffer;
}

export interface RecordingRelay {
  port: number;
  /** One entry per accepted connection, in accept order. */
  connections: RecordedConnection[];
  close(): Promise<void>;
}

/** Start a relay to 127.0.0.1:`targetPort`. */
export async function startRecordingRelay(targetPort: number): Promise<RecordingRelay> {
  const connections: RecordedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const events: RecordedEvent[] = [];
    const join = (dir: 'c2s' | 's2c') => Buffer.concat(events.filter((e) => e.dir === dir).map((e) => e.data));
    let open = 2;
    let done!: () => void;
    const closed = new Promise<void>((resolve) => (done = resolve));
    const onClose = () => {
      if (--open === 0) done();
    };
    connections.push({ events, closed, clientToServer: () => join('c2s'), serverToClient: () => join('s2c') });
    client.on('data', (d) => {
      events.push({ dir: 'c2s', data: Buffer.from(d), timeMs: Date.now() });
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      events.push({ dir: 's2c', data: Buffer.from(d), timeMs: Date.now() });
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      sockets.delete(client);
      onClose();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      onClose();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
