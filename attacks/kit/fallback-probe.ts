/**
 * A probe of the real server with hand-built bytes: a ClientHello carrying TLS_FALLBACK_SCSV
 * (RFC 7507 §3), to see whether the server refuses an inappropriate fallback. The socket lives
 * here, in the kit, so attacks hold none.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { ALERT_DESCRIPTION } from '../../core/tls/alerts.ts';
import { buildClientHello } from '../../core/tls/client-hello.ts';
import { CONTENT_TYPE, TLS_FALLBACK_SCSV, versionName } from '../../core/tls/registry.ts';

/**
 * Sends a hand-built ClientHello for `version` carrying TLS_FALLBACK_SCSV (RFC 7507 §3) straight
 * to the server and reports its answer: a server that supports a higher version must answer with
 * the inappropriate_fallback alert (86).
 */
export async function probeFallbackScsv(port: number, version: number): Promise<{ answer: 'inappropriate_fallback' | 'server_hello' | 'other_alert' | 'nothing'; detail: string }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  sock.on('data', (d) => chunks.push(d));
  sock.on('error', () => {});
  await new Promise<void>((r) => {
    sock.once('connect', r);
    sock.once('error', () => r());
  });
  sock.write(
    buildClientHello({
      legacyVersion: version,
      random: randomBytes(32),
      cipherSuites: [0xc02f, 0xc013, 0x009c, 0x002f, TLS_FALLBACK_SCSV],
      serverName: 'localhost',
      supportedGroups: [0x001d, 0x0017],
      signatureAlgorithms: [0x0804, 0x0401, 0x0201],
    }),
  );
  await new Promise<void>((r) => {
    const t = setTimeout(r, 1000);
    sock.once('data', () => setTimeout(() => (clearTimeout(t), r()), 20));
    sock.once('close', () => (clearTimeout(t), r()));
  });
  sock.destroy();
  const bytes = Buffer.concat(chunks);
  if (bytes.length >= 7 && bytes[0] === CONTENT_TYPE.alert) {
    const desc = bytes[6];
    if (desc === ALERT_DESCRIPTION.inappropriate_fallback) return { answer: 'inappropriate_fallback', detail: `the server answered a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV with alert inappropriate_fallback (86): it refuses an inappropriate fallback (RFC 7507)` };
    return { answer: 'other_alert', detail: `the server answered a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV with alert ${desc}` };
  }
  if (bytes.length >= 6 && bytes[0] === CONTENT_TYPE.handshake && bytes[5] === 2) return { answer: 'server_hello', detail: `the server accepted a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV (it does not implement RFC 7507)` };
  return { answer: 'nothing', detail: `the server sent nothing recognisable to a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV` };
}

