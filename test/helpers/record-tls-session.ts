/**
 * Record one real TLS session between a `node:tls` server and client on 127.0.0.1, through a
 * {@link startRecordingRelay} in between: the client sends a secret, the server answers, both close.
 * Returns the two recorded byte streams and what each endpoint said, for decrypt tests.
 */
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { rsaTestCert } from './test-cert.ts';
import { startRecordingRelay, type RecordedEvent } from './recording-relay.ts';

export interface RecordSessionOptions {
  /** Server `ciphers` (TLS ≤ 1.2 OpenSSL list); the client uses the same. */
  ciphers?: string;
  maxVersion?: tls.SecureVersion;
  minVersion?: tls.SecureVersion;
  /** Server `secureOptions` (e.g. 1 = SSL_OP_NO_EXTENDED_MASTER_SECRET in OpenSSL 3). */
  serverSecureOptions?: number;
  /** A session to resume (from an earlier {@link RecordedSession.session}). */
  session?: Buffer;
  /** Server ecdhCurve, e.g. 'P-256'. */
  ecdhCurve?: string;
  /** Server dhparam ('auto' enables DHE suites). */
  dhparam?: 'auto';
  /** Server ticket keys (48 bytes): share them between calls so a later session can resume. */
  ticketKeys?: Buffer;
}

export interface RecordedSession {
  clientToServer: Buffer;
  serverToClient: Buffer;
  events: RecordedEvent[];
  /** What the client wrote (a random hex string). */
  clientSecret: string;
  /** What the server wrote back. */
  serverReply: string;
  protocol: string | null;
  cipher: tls.CipherNameAndProtocol;
  reused: boolean;
  /** Session for resumption, if the server issued one. */
  session?: Buffer;
  /** NSS key log lines from the client's `keylog` event. */
  keylog: string[];
  /** Port the client connected to (the relay): the "server port" as seen on the wire. */
  relayPort: number;
}

export async function recordTlsSession(opts: RecordSessionOptions = {}): Promise<RecordedSession> {
  const { keyPem, certPem } = rsaTestCert();
  const clientSecret = `secret-${randomBytes(12).toString('hex')}`;
  const serverReply = `ack-${randomBytes(8).toString('hex')}`;
  const server = tls.createServer({
    key: keyPem,
    cert: certPem,
    maxVersion: opts.maxVersion ?? 'TLSv1.2',
    minVersion: opts.minVersion ?? 'TLSv1.2',
    ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
    ...(opts.serverSecureOptions !== undefined ? { secureOptions: opts.serverSecureOptions } : {}),
    ...(opts.ecdhCurve ? { ecdhCurve: opts.ecdhCurve } : {}),
    ...(opts.dhparam ? { dhparam: opts.dhparam } : {}),
    ...(opts.ticketKeys ? { ticketKeys: opts.ticketKeys } : {}),
  });
  server.on('secureConnection', (s) => {
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.length >= clientSecret.length) s.end(serverReply);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay = await startRecordingRelay((server.address() as { port: number }).port);
  try {
    const keylog: string[] = [];
    const client = tls.connect({
      host: '127.0.0.1',
      port: relay.port,
      servername: 'localhost',
      rejectUnauthorized: false,
      maxVersion: opts.maxVersion ?? 'TLSv1.2',
      minVersion: opts.minVersion ?? 'TLSv1.2',
      ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
      ...(opts.session ? { session: opts.session } : {}),
    });
    client.on('keylog', (line) => keylog.push(line.toString().trim()));
    let session: Buffer | undefined;
    client.on('session', (s) => (session = s));
    let reply = '';
    const done = new Promise<void>((resolve, reject) => {
      client.on('data', (d) => (reply += d.toString()));
      client.on('end', () => {
        client.end();
        resolve();
      });
      client.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
    const info = { protocol: client.getProtocol(), cipher: client.getCipher(), reused: client.isSessionReused() };
    client.write(clientSecret);
    await done;
    if (reply !== serverReply) throw new Error(`server reply mismatch: ${reply}`);
    const conn = relay.connections[0]!;
    await conn.closed;
    return {
      clientToServer: conn.clientToServer(),
      serverToClient: conn.serverToClient(),
      events: conn.events,
      clientSecret,
      serverReply,
      ...info,
      session,
      keylog,
      relayPort: relay.port,
    };
  } finally {
    await relay.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
