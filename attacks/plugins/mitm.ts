/**
 * Man-in-the-middle attacks on certificate verification: the proxy reads what it forwards
 * (`mitm-passive`) or terminates the victim's TLS with a certificate the attacker holds
 * (`mitm-self-signed`, `mitm-wrong-host`, `mitm-rogue-ca`). The verdict comes from whether the
 * canary was read in what the proxy captured, and — when not — from the victim's own error.
 */
import type { CertKeyPem } from '../../core/tls/node-options.ts';
import type { PkiMaterial } from '../../core/pki.ts';
import { GALLERY_DEFECTS, GALLERY_ENTRIES, loadGallery } from '../../core/pki-gallery.ts';
import { conversationEvidence, findCanary, firstClientError, proxyEvidence, sightingEvidence } from '../kit/evidence.ts';
import type { ProxyAddon } from '../proxy.ts';
import { ChannelTakeover } from '../kit/channel-takeover.ts';
import { galleryVerdict, type GalleryCertResult } from '../kit/gallery-verdict.ts';
import { chainPrefix, positionAddon, positionEvidence } from '../kit/position.ts';
import type { Attack, AttackContext, AttackPremise, Observations, Verdict } from '../types.ts';

/** Builds the verdict of a MITM run from its observations. */
export function mitmVerdict(obs: Observations, active: boolean): Verdict {
  const engine = obs.proxy!.engine;
  const sightings = findCanary(engine, obs.canary);
  const negotiated = obs.clients.alice.negotiated ?? obs.clients.bob.negotiated;
  const evidence = [...sightingEvidence(sightings, obs.canary), ...proxyEvidence(obs), ...conversationEvidence(obs)];
  const terminated = obs.proxy!.connections.some((c) => c.mode === 'terminate' && c.clientHop);
  if (sightings.length) {
    // Name what the attacker had to break into, from its own records of that connection.
    const rec = obs.proxy!.connections.find((c) => c.id === sightings[0].conn);
    const tookTls = rec?.mode === 'terminate';
    const tookChannel = !!rec?.notes.some((n) => n.startsWith('channel MITM: answered'));
    const where =
      sightings[0].layer !== 'plaintext'
        ? 'in the bytes on the wire'
        : `inside ${[tookTls ? 'the TLS session it terminated' : '', tookChannel ? 'the secure channel it took over' : ''].filter(Boolean).join(' and ') || 'the decrypted stream'}`;
    const channel = obs.clients.alice.channel;
    const how =
      channel?.cipher === 'null'
        ? 'the secure channel negotiated the null cipher, which does not encrypt'
        : sightings[0].layer === 'plaintext'
          ? tookChannel && !tookTls && channel?.keyExchange === 'ecdhe'
            ? 'nothing authenticates the unsigned key exchange, so the victim took the attacker\'s own X25519 share'
            : 'the victim accepted the attacker\'s certificate'
          : obs.clients.alice.negotiated || channel
            ? 'the payload was not protected'
            : 'the chat ran in plaintext';
    return {
      outcome: 'succeeded',
      reason: `the attacker read the canary ${where}: ${how}${active ? '; sitting in the plaintext path, it could also have altered it' : ''}`,
      summary: sightings[0].layer !== 'plaintext' ? 'canary read on the wire' : how.startsWith('nothing authenticates') ? 'canary read: key share swapped' : 'canary read: forged cert accepted',
      impact: active ? ['confidentiality', 'integrity'] : ['confidentiality'],
      evidence,
      negotiated,
    };
  }
  const err = firstClientError(obs);
  // Only a certificate refusal (on TLS or in the secure channel) is the victim stopping the attack;
  // a handshake that broke for another reason says nothing about the defence.
  const refusedCertificate = err && (/^SECCHAT_ERR_CERT_/.test(err.code) || (err.code === 'SECCHAT_ERR_CHANNEL' && err.details?.channelCode === 'certificate_rejected'));
  if (err && refusedCertificate) {
    // A channel refusal carries the certificate verdict's code (verifierCode) rather than a reason.
    const verifier = typeof err.details?.verifierCode === 'string' ? err.details.verifierCode.replace('SECCHAT_ERR_CERT_', '').toLowerCase().replace(/_/g, ' ') : null;
    const why = String(err.details?.reason ?? (verifier ? `${verifier} (channel)` : err.details?.channelCode ?? err.code.replace('SECCHAT_ERR_', '').toLowerCase()));
    return { outcome: 'blocked', reason: `${err.who}'s client refused the connection: ${err.message}`, summary: `refused: ${why}`.slice(0, 40), impact: [], evidence, negotiated };
  }
  if (obs.bobReceived === obs.canaryMessage) {
    const what = terminated ? 'TLS was terminated but the canary was not in the plaintext' : 'the canary crossed only as ciphertext';
    return {
      outcome: 'blocked',
      reason: `the attacker saw only encrypted bytes: ${what}${negotiated ? ` (${negotiated.protocol} ${negotiated.cipher})` : ''}`,
      summary: `only ciphertext seen${negotiated?.protocol ? ` (${negotiated.protocol})` : ''}`,
      impact: [],
      evidence,
      negotiated,
    };
  }
  return {
    outcome: 'error',
    reason: err ? `the conversation failed for another reason: ${err.code}: ${err.message}` : 'the conversation did not complete and no client reported why',
    summary: 'conversation failed',
    impact: [],
    evidence,
    negotiated,
  };
}

/**
 * A MITM addon that answers every TLS ClientHello with `identity`, and does the same in the
 * application-layer secure channel wherever it can read the chat frames.
 */
function terminateWith(name: string, identity: CertKeyPem): ProxyAddon {
  const takeover = new ChannelTakeover({ identity });
  return { name, onClientHello: () => ({ action: 'terminate', identity }), onFrame: (conn, frame, dir) => takeover.handle(conn, dir, frame, ({ frame: f }) => [f]) };
}

function activeMitm(id: string, title: string, description: string, pick: (pki: PkiMaterial) => { identity: CertKeyPem }): Attack {
  return {
    id,
    title,
    description,
    async run(ctx: AttackContext) {
      const obs = await ctx.runConversation({ addon: terminateWith(id, pick(ctx.pki).identity) });
      return mitmVerdict(obs, true);
    },
  };
}

/**
 * mitm-rogue-ca's run: the premise is set up only when the attacker needs it. First the strongest
 * attacker without it — the position the profile hands it (attacks/kit/position.ts: a stripped
 * STARTTLS, a self-signed or wrong-host certificate the client takes, a channel taken over) —
 * tries to read the canary; when it does, no rogue root was installed and the success is the
 * profile's own failure (`premiseUsed: false`). Otherwise the victims trust the rogue root and
 * the attacker presents the certificate it signed (`premiseUsed: true`).
 */
async function rogueCaRun(ctx: AttackContext): Promise<Verdict> {
  const pos = await ctx.position();
  let without: Verdict | null = null;
  if (pos.framesReadable) {
    const obs = await ctx.runConversation({ addon: positionAddon(pos, ctx.pki, { name: 'mitm-rogue-ca-without-premise' }).addon });
    without = mitmVerdict(obs, true);
    if (without.outcome === 'succeeded') {
      return {
        ...without,
        reason: `without the premise (no rogue root installed): ${chainPrefix(pos)}${without.reason}`,
        evidence: [{ kind: 'premise', detail: "not needed: the attacker read the canary from the position the profile hands it, with no rogue root installed in the victim's trust store" }, ...positionEvidence(pos), ...without.evidence],
        premiseUsed: false,
      };
    }
  }
  const rogue = ctx.pki.attackerRogue;
  const obs = await ctx.runConversation({ addon: terminateWith('mitm-rogue-ca', rogue), extraTrustedCaPems: [ctx.pki.rogueCa.certPem] });
  const verdict = mitmVerdict(obs, true);
  const reached = `without the rogue root the attacker reaches only ${pos.steps.join(' → ')}`;
  // Say the premise in the verdict itself: a red cell on a correct profile needs it.
  verdict.reason = `premise: the victim was made to trust the attacker's rogue root (as a corporate proxy or malware installs one). ${verdict.reason}`;
  verdict.evidence.unshift(
    { kind: 'premise', detail: 'the victim clients trust the rogue root CA in addition to the lab CA' },
    {
      kind: 'premise',
      // A run without the premise that gave no verdict proves nothing: then the line says so.
      detail:
        without?.outcome === 'error'
          ? `not shown to be needed: ${reached}, and the run from there gave no verdict (${without.reason})`
          : `needed: ${reached}${without ? `, and from there: ${without.reason}` : ', where the chat frames cross unreadable'}`,
    },
    ...positionEvidence(pos),
  );
  return { ...verdict, premiseUsed: true };
}

/** The rogue-CA premise: set up by the attack itself (the victims trust the rogue root), not by the profile. */
export const ROGUE_ROOT_PREMISE: AttackPremise = { assumes: 'the victim trusts a rogue root CA', label: 'rogue root trusted' };

export const mitmPassive: Attack = {
  id: 'mitm-passive',
  title: 'Passive eavesdropper',
  description: 'The attacker sits on the path and only reads the bytes it forwards. Succeeds if the canary can be read from the captured traffic.',
  async run(ctx) {
    const obs = await ctx.runConversation({ addon: { name: 'mitm-passive' } });
    return mitmVerdict(obs, false);
  },
};

export const mitmSelfSigned = activeMitm(
  'mitm-self-signed',
  'MITM, self-signed cert',
  'The attacker terminates TLS with a self-signed certificate carrying the server\'s names (localhost, 127.0.0.1). Succeeds if the victim accepts it and the attacker reads the canary.',
  (pki) => ({ identity: pki.attackerSelfSigned }),
);

export const mitmWrongHost = activeMitm(
  'mitm-wrong-host',
  'MITM, wrong-host cert',
  'The attacker presents a genuine certificate from the lab CA — issued to evil.example, not to the server. Succeeds if the victim skips the hostname check.',
  (pki) => ({ identity: pki.attackerWrongHost }),
);

export const mitmRogueCa: Attack = {
  id: 'mitm-rogue-ca',
  title: 'MITM, rogue CA',
  description:
    "The victim has been made to trust a rogue root (as a corporate proxy or malware would install); the attacker presents a certificate for the server's names signed by it. Only a pin on the server key stops it. The premise is used only when needed: where the attacker reads the canary from the position the profile hands it without a rogue root, the cell is the profile's own failure.",
  premise: ROGUE_ROOT_PREMISE,
  run: rogueCaRun,
};

export const mitmGallery: Attack = {
  id: 'mitm-gallery',
  title: 'MITM, certificate gallery',
  description:
    'The attacker presents, one run each, nine certificates for the server\'s names that chain to the lab CA but carry one defect each (expired, not yet valid, missing intermediate, a leaf used as issuer, CN without SAN, a wildcard that does not cover the name, RSA-1024, SHA-1, clientAuth-only EKU). Succeeds if the client accepts any; each refusal must name its defect.',
  async run(ctx) {
    const gallery = loadGallery(ctx.pki);
    const server = await ctx.startServer();
    const results: GalleryCertResult[] = [];
    for (const entry of GALLERY_ENTRIES) {
      const obs = await ctx.runConversation({ addon: terminateWith(`mitm-gallery-${entry}`, gallery[entry]), server, canary: `${ctx.canary}-${entry}` });
      const v = mitmVerdict(obs, true);
      results.push({ entry, defect: GALLERY_DEFECTS[entry].defect, outcome: v.outcome, reason: v.reason });
    }
    return galleryVerdict(results, []);
  },
};
