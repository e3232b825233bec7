/**
 * The key-exchange group read from a TLS server's first flight (core/tls/flight-group.ts), from
 * real node:tls sessions of every kind (TLS 1.3 with and without a HelloRetryRequest, TLS 1.2
 * ECDHE, DHE and static RSA), every prefix of a flight (never a wrong group, never a throw), and
 * the proxy's victim hop of a terminated TLS 1.3 session: node gives a server no
 * getEphemeralKeyInfo(), so without this the hop read "no (EC)DHE group".
 */
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { serverFlightGroup } from '../core/tls/flight-group.ts';
import { ProxyEngine } from '../attacks/proxy.ts';
import { recordTlsSession } from './helpers/record-tls-session.ts';
import { rsaTestCert } from './helpers/test-cert.ts';

describe('serverFlightGroup from real sessions', () => {
  it.each([
    ['TLS 1.3, X25519 key share', { maxVersion: 'TLSv1.3', minVersion: 'TLSv1.3' } as const, 'X25519'],
    ['TLS 1.3, P-256 after a HelloRetryRequest', { maxVersion: 'TLSv1.3', minVersion: 'TLSv1.3', ecdhCurve: 'P-256' } as const, 'P-256'],
    ['TLS 1.2 ECDHE, P-384', { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'P-384' }, 'P-384'],
    ['TLS 1.2 DHE', { ciphers: 'DHE-RSA-AES128-GCM-SHA256', dhparam: 'auto' } as const, 'DH-2048'],
    ['TLS 1.2 static RSA: no (EC)DHE', { ciphers: 'AES128-GCM-SHA256' }, null],
  ])('%s', async (_name, opts, group) => {
    const s = await recordTlsSession(opts);
    expect(serverFlightGroup(s.serverToClient)).toEqual({ group });
  });

  it('every prefix of a flight tells the right group or nothing, and a greeting before it is skipped', async () => {
    const s = await recordTlsSession({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'P-256' });
    const flight = s.serverToClient.subarray(0, 2048);
    for (let n = 0; n <= flight.length; n++) {
      const r = serverFlightGroup(flight.subarray(0, n));
      if (r !== null) expect(r, `prefix of ${n} bytes`).toEqual({ group: 'P-256' });
    }
    expect(serverFlightGroup(Buffer.concat([Buffer.from('{"type":"starttls_ok"}\n'), s.serverToClient]))).toEqual({ group: 'P-256' });
    expect(serverFlightGroup(Buffer.from('not TLS at all\n'))).toBeNull();
  });
});

describe("the proxy's victim hop of a terminated TLS 1.3 session", () => {
  it('names the group the attacker negotiated with the victim (what the victim itself saw)', async () => {
    const cert = rsaTestCert();
    const server = tls.createServer({ key: cert.keyPem, cert: cert.certPem, minVersion: 'TLSv1.3' }, (s) => s.end('hi\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = await ProxyEngine.start({
      upstream: { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
      addon: { name: 'terminate', onClientHello: () => ({ action: 'terminate', identity: cert }) },
      upstreamServername: 'localhost',
    });
    try {
      const victim = tls.connect({ host: '127.0.0.1', port: proxy.port, servername: 'localhost', rejectUnauthorized: false, ecdhCurve: 'P-384' });
      const seen = await new Promise<string>((resolve, reject) => {
        victim.once('secureConnect', () => resolve((victim.getEphemeralKeyInfo() as { name: string }).name));
        victim.once('error', reject);
      });
      await new Promise((r) => victim.once('close', r).resume());
      await proxy.idle();
      const hop = proxy.connections[0]!.clientHop!;
      expect(seen).toBe('secp384r1'); // OpenSSL's name for P-384, as the victim's node spells it
      expect(hop).toMatchObject({ protocol: 'TLSv1.3', group: 'P-384' });
    } finally {
      await proxy.close();
      server.close();
    }
  });
});
