/**
 * The one list of deliberately weak settings a profile can choose, with the weakness each
 * carries, the fix, and the lab that teaches it. Commands print these as warnings and reports
 * show them beside each profile. They explain settings; they never decide a verdict — verdicts
 * come only from what an attack observed.
 */
import { type Profile, versionRank } from './profile.ts';

/** One weak setting found in a profile. */
export interface Weakness {
  /** the profile field(s), e.g. `client.verify` */
  setting: string;
  /** the weakness in plain words */
  weakness: string;
  /** the setting to change */
  fix: string;
  /** the lab folder that teaches it, e.g. `02-certificate-verification` */
  lab: string;
}

type Rule = { applies: (p: Profile) => boolean } & Weakness;

const TLSISH = (p: Profile) => p.transport !== 'plain';

const RULES: Rule[] = [
  {
    setting: 'transport',
    applies: (p) => p.transport === 'plain' && p.channel.keyExchange === 'none',
    weakness: 'messages and passwords cross the network in plaintext',
    fix: 'transport: tls (or a channel key exchange)',
    lab: '01-plaintext-vs-tls',
  },
  {
    setting: 'transport',
    applies: (p) => p.transport === 'starttls',
    weakness: 'opportunistic STARTTLS: an attacker who strips the STARTTLS offer keeps the session in plaintext',
    fix: 'transport: starttls-required (or tls)',
    lab: '07-downgrade',
  },
  {
    setting: 'client.verify',
    applies: (p) => TLSISH(p) && p.client.verify === 'none',
    weakness: 'the client accepts any certificate: an active man-in-the-middle reads everything',
    fix: 'client.verify: ca (with checkHostname: true) or pin',
    lab: '02-certificate-verification',
  },
  {
    setting: 'client.checkHostname',
    applies: (p) => TLSISH(p) && p.client.verify === 'ca' && !p.client.checkHostname,
    weakness: 'any certificate the CA issued, for any name, is accepted as the server',
    fix: 'client.checkHostname: true',
    lab: '03-pki-hostnames-pinning',
  },
  {
    setting: 'client.verify',
    applies: (p) => TLSISH(p) && p.client.verify === 'ca',
    weakness: 'trust rests on every root the client trusts: a rogue root installed on the victim impersonates the server',
    fix: 'client.verify: pin (pin the server key)',
    lab: '03-pki-hostnames-pinning',
  },
  {
    setting: 'tls.minVersion',
    applies: (p) => TLSISH(p) && versionRank(p.tls.minVersion) < versionRank('TLSv1.2'),
    weakness: `TLS versions deprecated by RFC 8996 are allowed (CBC-mode attacks, SHA-1 handshake)`,
    fix: 'tls.minVersion: TLSv1.2 (or TLSv1.3)',
    lab: '07-downgrade',
  },
  {
    setting: 'client.fallback',
    applies: (p) => TLSISH(p) && p.client.fallback,
    weakness: 'the client retries failed handshakes with a lower version: an attacker who kills handshakes forces the weakest one',
    fix: 'client.fallback: false (and raise tls.minVersion)',
    lab: '07-downgrade',
  },
  {
    setting: 'tls.ciphers',
    applies: (p) => TLSISH(p) && versionRank(p.tls.minVersion) < versionRank('TLSv1.3') && !!p.tls.ciphers && /(^|:)(AES\d+-(GCM-)?SHA\d*|RSA\+|kRSA|AES\d+-SHA)/.test(p.tls.ciphers),
    weakness: 'RSA key exchange is allowed: a recording can be decrypted later with the server key (no forward secrecy)',
    fix: 'tls.ciphers: ECDHE+AESGCM (or tls.minVersion: TLSv1.3)',
    lab: '04-forward-secrecy',
  },
  {
    setting: 'tls.groups',
    applies: (p) => TLSISH(p) && !!p.tls.groups && /(^|:)ffdhe(4096|6144|8192)($|:)/i.test(p.tls.groups),
    weakness: 'large finite-field DH groups cost tens to hundreds of times more CPU per handshake than X25519: one busy event loop stalls every client',
    fix: 'tls.groups: X25519:P-256',
    lab: '09-concurrency',
  },
  {
    setting: 'tls.extendedMasterSecret',
    applies: (p) => TLSISH(p) && !p.tls.extendedMasterSecret,
    weakness: 'no extended master secret (RFC 7627): sessions are open to the triple-handshake attack',
    fix: 'tls.extendedMasterSecret: true',
    lab: '04-forward-secrecy',
  },
  {
    setting: 'channel.keyExchange',
    applies: (p) => p.channel.keyExchange === 'rsa',
    weakness: 'the channel key is wrapped with the server RSA key: no forward secrecy',
    fix: 'channel.keyExchange: ecdhe-signed',
    lab: '04-forward-secrecy',
  },
  {
    setting: 'channel.keyExchange',
    applies: (p) => p.channel.keyExchange === 'ecdhe',
    weakness: 'unsigned ECDHE: any active man-in-the-middle substitutes its own key share',
    fix: 'channel.keyExchange: ecdhe-signed',
    lab: '05-secure-channel',
  },
  {
    setting: 'channel.ciphers',
    applies: (p) => p.channel.keyExchange !== 'none' && p.channel.ciphers.includes('aes-128-cbc'),
    weakness: 'aes-128-cbc without a MAC is malleable: flipped ciphertext bits flip plaintext bits',
    fix: 'remove aes-128-cbc from channel.ciphers (use an AEAD)',
    lab: '05-secure-channel',
  },
  {
    setting: 'channel.ciphers',
    applies: (p) => p.channel.keyExchange !== 'none' && p.channel.ciphers.includes('null'),
    weakness: 'the null cipher sends messages unencrypted inside the channel',
    fix: 'remove null from channel.ciphers',
    lab: '05-secure-channel',
  },
  {
    setting: 'channel.transcriptMac',
    applies: (p) => p.channel.keyExchange !== 'none' && !p.channel.transcriptMac,
    weakness: 'the handshake is not authenticated as a whole: a rewritten cipher offer goes unnoticed',
    fix: 'channel.transcriptMac: true',
    lab: '07-downgrade',
  },
  {
    setting: 'channel.replayProtection',
    applies: (p) => p.channel.keyExchange !== 'none' && p.channel.replayProtection === 'none',
    weakness: 'channel frames carry no sequence number or nonce: a recorded frame can be replayed',
    fix: 'channel.replayProtection: sequence',
    lab: '06-replay',
  },
  {
    setting: 'auth.storage',
    applies: (p) => p.auth.storage === 'plaintext',
    weakness: 'passwords are stored as they are: a stolen database reveals them all at once',
    fix: 'auth.storage: scrypt',
    lab: '08-password-storage',
  },
  {
    setting: 'auth.storage',
    applies: (p) => p.auth.storage === 'sha256',
    weakness: 'passwords are stored as unsalted SHA-256: a dictionary attack tests hundreds of thousands of guesses per second on one core (millions on a GPU)',
    fix: 'auth.storage: scrypt',
    lab: '08-password-storage',
  },
  {
    setting: 'auth.method',
    applies: (p) => p.auth.method === 'challenge',
    weakness: 'the login proof is keyed with the stored value, so the database is password-equivalent: whoever steals it logs in as anyone without cracking',
    fix: 'auth.method: password over verified TLS (a real fix is SCRAM, RFC 5802, or OPAQUE, RFC 9807)',
    lab: '08-password-storage',
  },
];

/** Every rule's setting, weakness, fix and lab, in order (for checks that each lab exists). */
export function allWeaknesses(): Weakness[] {
  return RULES.map(({ setting, weakness, fix, lab }) => ({ setting, weakness, fix, lab }));
}

/** The weak settings a profile chooses, in a stable order. */
export function weaknessesOf(p: Profile): Weakness[] {
  return RULES.filter((r) => r.applies(p)).map(({ setting, weakness, fix, lab }) => ({ setting, weakness, fix, lab }));
}

/** One-line warnings for the weak settings a profile chooses (commands print these on stderr). */
export function profileWarnings(p: Profile): string[] {
  return weaknessesOf(p)
    .filter((w) => !(w.setting === 'client.verify' && w.fix.startsWith('client.verify: pin'))) // advice, not a warning
    .map((w) => `${w.setting}: ${w.weakness} (fix: ${w.fix}; lab ${w.lab})`);
}
