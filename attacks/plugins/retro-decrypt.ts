/**
 * retro-decrypt — "record now, decrypt later", the attack forward secrecy exists to defeat.
 *
 * 1. A passive tap (a relay addon: it changes nothing) records the whole conversation, handshakes
 *    included. The scripted clients are fresh processes' worth of state — no session cache, no
 *    ticket — so every connection makes a full handshake; a resumed one is reported as such.
 * 2. After the conversation has ended, the attacker steals the server's private key: it reads the
 *    lab PKI key file (`pki.server.keyPath`) and nothing else — no key log, no session state.
 * 3. Offline, it decrypts the recording by itself (attacks/retro/connection-analysis.ts): TLS 1.2 RSA key
 *    transport opens (RFC 5246 §7.4.7.1); (EC)DHE and every TLS 1.3 session do not (the key only
 *    signed the handshake); the secure channel's `rsa` mode opens, its `ecdhe*` modes do not.
 *
 * Verdict, from the recording only: `succeeded` when the canary came out; `blocked` when an
 * ephemeral key exchange kept it sealed (the reason names the group read from the recording);
 * `error` when the recording could not be analysed (a resumed session, a suite secchat does not
 * decrypt, a failed derivation). Kept artifacts: `recovered.keylog`, the CLIENT_RANDOM lines secchat
 * derived itself, beside the run's `capture.pcap`.
 *
 * The evidence and the verdict joining secchat's own client run with the legacy-client run are
 * attacks/kit/retro-decrypt-verdict.ts (pure); this file records, steals the key and decrypts.
 *
 * Layers compose: TLS opened with the stolen key may reveal a secure channel inside it, which the
 * key opens again in `rsa` mode and not in `ecdhe*` modes; over `transport: plain` only the channel
 * is there to open.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeKeylogFile } from '../kit/capture.ts';
import { analyseRecording, retroVerdict } from '../retro/recording-verdict.ts';
import { LEGACY_CLIENT_CIPHERS, combine, variantEvidence, type Variant } from '../kit/retro-decrypt-verdict.ts';
import type { Profile } from '../../core/profile.ts';
import type { Attack, AttackContext } from '../types.ts';

/** File name of the key log secchat derives from the stolen key, in the run's artifact folder. */
export const RECOVERED_KEYLOG_FILE = 'recovered.keylog';
/** File name of the key log derived in the legacy-client variant. */
export const LEGACY_KEYLOG_FILE = 'recovered-legacy-client.keylog';

export const retroDecrypt: Attack = {
  id: 'retro-decrypt',
  keepsRecordings: true,
  title: 'Record now, decrypt later',
  description:
    'A passive tap records a whole session; afterwards the attacker steals the server private key (reads the key file) and decrypts the recording offline. Succeeds if the canary comes out: RSA key transport is not forward secret; ephemeral (EC)DHE and TLS 1.3 are.',
  applicability(p) {
    if (p.transport === 'plain' && p.channel.keyExchange === 'none') {
      return 'no encryption to break: the chat crosses the network in plaintext, which the passive eavesdropper (mitm-passive) already reads';
    }
    return null;
  },
  async run(ctx) {
    const own = await recordAndAnalyse(ctx);
    // A server's settings, not secchat's client, decide what a recording gives up: when secchat's
    // client kept the session forward secret, replay the conversation with a legacy client that
    // offers only static-RSA suites. Measured like the first: recorded, then decrypted, or refused.
    const legacy = own.v.outcome !== 'succeeded' && ctx.profile.transport !== 'plain' ? await recordAndAnalyse(ctx, legacyClientProfile(ctx.profile)) : null;
    return combine(ctx.profile.name, own, legacy);
  },
};

/** The victims' profile for the legacy-client variant: the run's profile with a legacy client's TLS offer. */
export function legacyClientProfile(p: Profile): Profile {
  return { ...p, tls: { ...p.tls, minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: LEGACY_CLIENT_CIPHERS, ciphersuites: undefined }, client: { ...p.client, fallback: false } };
}

async function recordAndAnalyse(ctx: AttackContext, clientProfile?: Profile): Promise<Variant> {
  // 1. Record. The tap only relays; every byte lands in engine.traffic.
  const obs = await ctx.runConversation({ addon: { name: 'retro-decrypt-tap' }, ...(clientProfile ? { clientProfile } : {}) });
  const engine = obs.proxy!.engine;

  // 2. Steal the key — only now that the session is over, and only the key file.
  const keyPath = ctx.pki.server.keyPath;
  const stolenKeyPem = readFileSync(keyPath, 'utf8');

  // 3. Decrypt the recording alone: the client-wire bytes of each connection, both directions.
  const all = analyseRecording(obs.proxy!, stolenKeyPem, ctx.canary);

  const v = retroVerdict(all, keyPath, ctx.canary);
  const recorded = { c2s: engine.bytes({ dir: 'c2s', layer: 'client-wire' }).length, s2c: engine.bytes({ dir: 's2c', layer: 'client-wire' }).length };
  const keyLogLines = all.flatMap((x) => (x.a.tls?.keyLogLine ? [x.a.tls.keyLogLine] : []));
  const evidence = variantEvidence(all, v, keyPath, recorded, keyLogLines, obs);

  const artifacts: Record<string, string> = {};
  if (ctx.artifactDir && keyLogLines.length > 0) {
    const file = path.join(ctx.artifactDir, clientProfile ? LEGACY_KEYLOG_FILE : RECOVERED_KEYLOG_FILE);
    mkdirSync(ctx.artifactDir, { recursive: true });
    writeKeylogFile(file, keyLogLines);
    artifacts[clientProfile ? 'recovered-keylog-legacy-client' : 'recovered-keylog'] = file;
  }
  return { legacy: !!clientProfile, obs, all, v, keyPath, evidence, keyLogLines, artifacts };
}
