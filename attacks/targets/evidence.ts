/**
 * Readers of a target run's observations, shared by the target variants: what the student's
 * programs printed, what the proxy recorded on its TLS hops, and the TLS alert (RFC 8446 §6) a
 * refusing client sent the attacker.
 */
import type { ProxyConnectionRecord } from '../proxy.ts';
import type { Evidence } from '../types.ts';
import { lastLines, type TargetObservations } from './scenario.ts';

/** Evidence lines about the programs: what the client printed, whether the observer got the canary. */
export function programEvidence(obs: TargetObservations): Evidence[] {
  const ev: Evidence[] = [];
  const exit = obs.client.exit ? ` (exit ${obs.client.exit.code ?? obs.client.exit.signal})` : '';
  ev.push({ kind: 'target-client', detail: `the client (${obs.client.argv.join(' ')}) printed: ${lastLines(obs.client.output) || '(nothing)'}${exit}` });
  if (obs.observer) ev.push({ kind: 'delivery', detail: obs.observer.canaryCopies ? `the observer client received the canary ${obs.observer.canaryCopies} time(s)` : 'the observer client did not receive the canary' });
  else ev.push({ kind: 'delivery', detail: obs.serverLogged ? "the server's log shows the canary arrived" : "the canary did not appear in the server's log" });
  return ev;
}

/** Proxy records as evidence: per connection, the TLS hops and the errors on them. */
export function targetProxyEvidence(obs: TargetObservations): Evidence[] {
  return (obs.proxy?.connections ?? []).flatMap((c) => [
    ...(c.mode === 'terminate'
      ? [{ kind: 'proxy-tls', detail: `connection ${c.id}: attacker terminated TLS — client hop ${c.clientHop ? `${c.clientHop.protocol} ${c.clientHop.cipher}` : 'did not complete'}, server hop ${c.serverHop ? `${c.serverHop.protocol} ${c.serverHop.cipher}` : 'did not complete'}` }]
      : []),
    ...c.errors.map((e) => ({ kind: 'proxy-error', detail: `connection ${c.id}, ${e.side} side: ${e.code}: ${e.message}` })),
  ]);
}

/**
 * The TLS alert the victim client sent the attacker, read from the proxy's own error on the
 * client hop (OpenSSL names it: "tlsv1 alert unknown ca", "sslv3 alert bad certificate"…).
 */
export function clientAlert(c: ProxyConnectionRecord): string | null {
  for (const e of c.errors) {
    if (e.side !== 'client') continue;
    const m = /(?:tlsv1|sslv3|tlsv13) alert ([a-z ]+)/i.exec(e.message);
    if (m) return m[1]!.trim().replace(/ /g, '_');
  }
  return null;
}

/** The sentence a refusing client printed about the certificate, if any (Python's ssl module wording and OpenSSL's). */
export function clientRefusalLine(obs: TargetObservations): string | null {
  const lines = obs.client.output.split('\n').filter((l) => /certificate verify failed|CERTIFICATE_VERIFY_FAILED|hostname mismatch|certificate|SSLError|alert/i.test(l) && !/DeprecationWarning/.test(l));
  return lines.length ? lines[lines.length - 1]!.trim().slice(0, 300) : null;
}
