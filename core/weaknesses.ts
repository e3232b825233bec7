/**
 * The one list of deliberately weak settings, with the weakness each carries, the fix, and the lab
 * that teaches it (STYLE lesson 8, like mitmproxy's one constant of insecure TLS versions). Every
 * warning about a weak choice comes from here: {@link warningsFor} for a profile (CLI `profiles`,
 * `server`, `lab`, the matrix and its reports), {@link channelWeaknessWarnings} for what a secure
 * channel actually negotiated (core/channel/policy.ts). They explain settings; they never decide a
 * verdict — verdicts come only from what an attack observed.
 *
 * Detection is a function per entry (`inProfile`, `inChannel`), not a pattern in the list's shape:
 * an entry's test can be replaced (e.g. by asking OpenSSL what a TLS setting really allows) without
 * touching its text, fix or lab.
 */
import type { ChannelCipher, Profile } from './profile.ts';
import { versionRank } from './profile.ts';
import { CHANNEL_CIPHER_SPECS, WEAK_CHANNEL_CIPHERS } from './channel/ciphers.ts';
import { tlsWarnings } from './tls/node-options.ts';
import { tlsCapabilities, type SuiteInfo, type TlsCapabilities } from './tls-capabilities.ts';

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
  /**
   * ids of the attacks (attacks/registry.ts) that exploit this setting; a lab's check runs every
   * attack of every setting it teaches (labs/lab.ts `checkAttacks`). Empty when the harm is
   * measured otherwise (a costly group: the lab measures the server's load and what it accepts).
   */
  attacks: readonly string[];
}

/** The secure channel's settings as negotiated (the subset of core/channel's `Negotiated` that can be weak). */
export interface ChannelSettings {
  keyExchange: Profile['channel']['keyExchange'];
  /** `none` when the channel is off */
  cipher: ChannelCipher | 'none';
  transcriptMac: boolean;
  replayProtection: Profile['channel']['replayProtection'];
}

/** One entry of the list. */
export interface WeakSetting extends Weakness {
  /** stable name, e.g. `channel-no-transcript-mac` */
  id: string;
  /** whether a profile chooses it (absent: not a profile choice by itself) */
  inProfile?: (p: Profile) => boolean;
  /** whether a negotiated secure channel carries it (absent: not a channel setting) */
  inChannel?: (n: ChannelSettings) => boolean;
  /** advice rather than a warning: listed by `profiles show` and the reports, not printed at start */
  advice?: boolean;
}

const TLS_IN_USE = (p: Profile) => p.transport !== 'plain';

const capsCache = new WeakMap<Profile, TlsCapabilities | null>();
/** The profile's TLS capabilities as OpenSSL computes them (core/tls-capabilities.ts); null when OpenSSL refuses its strings. */
function capsOf(p: Profile): TlsCapabilities | null {
  if (!capsCache.has(p)) {
    let c: TlsCapabilities | null = null;
    try {
      c = tlsCapabilities(p);
    } catch {
      c = null; // an invalid cipher string is reported by checkTlsSettings, not here
    }
    capsCache.set(p, c);
  }
  return capsCache.get(p)!;
}
/** True when some version of the profile's range can negotiate a suite with the property (decided by OpenSSL, never by the text). */
const allowsSuite = (p: Profile, has: (s: SuiteInfo) => boolean) => TLS_IN_USE(p) && !!capsOf(p)?.versions.some((v) => v.suites.some(has));
// Something presents a certificate the client checks: TLS, or a secure channel over plain TCP.
const CERTISH = (p: Profile) => TLS_IN_USE(p) || p.channel.keyExchange !== 'none';
const CHANNEL_ON = (p: Profile) => p.channel.keyExchange !== 'none';

/** The weak channel ciphers, from the cipher table (core/channel/ciphers.ts), which owns their text. */
const CHANNEL_CIPHER_ENTRIES: WeakSetting[] = WEAK_CHANNEL_CIPHERS.map((c) => ({
  id: `channel-cipher-${c}`,
  setting: 'channel.ciphers',
  inProfile: (p) => CHANNEL_ON(p) && p.channel.ciphers.includes(c),
  inChannel: (n) => n.keyExchange !== 'none' && n.cipher === c,
  weakness: CHANNEL_CIPHER_SPECS[c].weakness!,
  fix: `remove ${c} from channel.ciphers (use an AEAD)`,
  lab: '05-secure-channel',
  // null leaves messages readable and alterable; the unauthenticated ciphers leave them alterable,
  // and a rewritten cipher offer can force one.
  attacks: c === 'null' ? ['mitm-passive', 'tamper'] : ['tamper', 'downgrade-cipher'],
}));

/** Every weak setting, most fundamental first (channel warnings keep this order). */
export const WEAK_SETTINGS: readonly WeakSetting[] = [
  {
    id: 'plaintext',
    setting: 'transport',
    inProfile: (p) => p.transport === 'plain' && p.channel.keyExchange === 'none',
    weakness: 'messages and passwords cross the network in plaintext',
    fix: 'transport: tls (or a channel key exchange)',
    lab: '01-plaintext-vs-tls',
    attacks: ['mitm-passive'],
  },
  {
    id: 'starttls-opportunistic',
    setting: 'transport',
    inProfile: (p) => p.transport === 'starttls',
    weakness: 'opportunistic STARTTLS: an attacker who strips the STARTTLS offer keeps the session in plaintext',
    fix: 'transport: starttls-required (or tls)',
    lab: '07-downgrade',
    attacks: ['downgrade-starttls'],
  },
  {
    id: 'no-certificate-check',
    setting: 'client.verify',
    inProfile: (p) => CERTISH(p) && p.client.verify === 'none',
    weakness: 'the client accepts any certificate: an active man-in-the-middle reads everything',
    fix: 'client.verify: ca (with checkHostname: true) or pin',
    lab: '02-certificate-verification',
    attacks: ['mitm-self-signed', 'mitm-wrong-host'],
  },
  {
    id: 'no-hostname-check',
    setting: 'client.checkHostname',
    inProfile: (p) => CERTISH(p) && p.client.verify === 'ca' && !p.client.checkHostname,
    weakness: 'any certificate the CA issued, for any name, is accepted as the server',
    fix: 'client.checkHostname: true',
    lab: '03-pki-hostnames-pinning',
    attacks: ['mitm-wrong-host'],
  },
  {
    id: 'ca-trust',
    setting: 'client.verify',
    inProfile: (p) => CERTISH(p) && p.client.verify === 'ca',
    weakness: 'trust rests on every root the client trusts: a rogue root installed on the victim impersonates the server',
    fix: 'client.verify: pin (pin the server key)',
    lab: '03-pki-hostnames-pinning',
    attacks: ['mitm-rogue-ca'],
    advice: true,
  },
  {
    id: 'old-tls-versions',
    setting: 'tls.minVersion',
    inProfile: (p) => TLS_IN_USE(p) && !!capsOf(p)?.versions.some((v) => versionRank(v.version) < versionRank('TLSv1.2') && v.suites.length > 0),
    weakness: `TLS versions deprecated by RFC 8996 are allowed (CBC-mode attacks, SHA-1 handshake)`,
    fix: 'tls.minVersion: TLSv1.2 (or TLSv1.3)',
    lab: '07-downgrade',
    attacks: ['downgrade-fallback'],
  },
  {
    id: 'version-fallback',
    setting: 'client.fallback',
    inProfile: (p) => TLS_IN_USE(p) && p.client.fallback,
    weakness: 'the client retries failed handshakes with a lower version: an attacker who kills handshakes forces the weakest one',
    fix: 'client.fallback: false (and raise tls.minVersion)',
    lab: '07-downgrade',
    attacks: ['downgrade-fallback'],
  },
  {
    id: 'tls-rsa-key-exchange',
    setting: 'tls.ciphers',
    inProfile: (p) => allowsSuite(p, (s) => s.staticRsa),
    weakness: 'RSA key exchange is allowed: a recording can be decrypted later with the server key (no forward secrecy)',
    fix: 'tls.ciphers: ECDHE+AESGCM (or tls.minVersion: TLSv1.3)',
    lab: '04-forward-secrecy',
    // retro-decrypt opens a recording of it; downgrade-suite forces it where the victim offers it
    attacks: ['retro-decrypt', 'downgrade-suite'],
  },
  {
    id: 'tls-cbc-suites',
    setting: 'tls.ciphers',
    inProfile: (p) => allowsSuite(p, (s) => s.cbc),
    weakness: 'CBC-mode suites are allowed: MAC-then-encrypt records invite padding-oracle and timing attacks (Lucky13); only AEAD suites avoid them',
    fix: 'tls.ciphers: ECDHE+AESGCM:ECDHE+CHACHA20 (AEAD only)',
    lab: '07-downgrade',
    attacks: ['downgrade-suite'], // it forces the weakest suite the victim offers, CBC included
  },
  {
    id: 'tls-sha1-mac',
    setting: 'tls.ciphers',
    inProfile: (p) => allowsSuite(p, (s) => s.sha1Mac),
    weakness: 'suites with an HMAC-SHA1 record MAC are allowed (legacy; RFC 9325 §4.2 recommends AEAD suites)',
    fix: 'tls.ciphers: ECDHE+AESGCM:ECDHE+CHACHA20',
    lab: '07-downgrade',
    attacks: [],
  },
  {
    id: 'tls-null-anon-export',
    setting: 'tls.ciphers',
    inProfile: (p) => allowsSuite(p, (s) => s.nullEncryption || s.anonymous || s.export),
    weakness: 'NULL, anonymous or export-grade suites are allowed: no encryption, no server authentication, or keys broken in minutes',
    fix: 'tls.ciphers: ECDHE+AESGCM:ECDHE+CHACHA20',
    lab: '02-certificate-verification',
    attacks: ['mitm-passive', 'mitm-self-signed'],
  },
  {
    id: 'ffdhe-large-groups',
    setting: 'tls.groups',
    inProfile: (p) => TLS_IN_USE(p) && !!p.tls.groups && /(^|:)ffdhe(4096|6144|8192)($|:)/i.test(p.tls.groups),
    weakness: 'large finite-field DH groups cost tens to hundreds of times more CPU per handshake than X25519: one busy event loop stalls every client',
    fix: 'tls.groups: X25519:P-256',
    lab: '09-concurrency',
    attacks: [],
  },
  {
    id: 'no-extended-master-secret',
    setting: 'tls.extendedMasterSecret',
    inProfile: (p) => TLS_IN_USE(p) && !p.tls.extendedMasterSecret,
    weakness: 'no extended master secret (RFC 7627): sessions are open to the triple-handshake attack',
    fix: 'tls.extendedMasterSecret: true',
    lab: '04-forward-secrecy',
    attacks: [],
  },
  {
    id: 'channel-off',
    setting: 'channel.keyExchange',
    // As a profile choice this is `plaintext` (or TLS doing the job); only a negotiated channel says it.
    inChannel: (n) => n.keyExchange === 'none',
    weakness: 'channel keyExchange none: the channel is off and chat frames travel without its protection',
    fix: 'channel.keyExchange: ecdhe-signed (or transport: tls)',
    lab: '05-secure-channel',
    attacks: ['mitm-passive'],
  },
  {
    id: 'channel-rsa-key-exchange',
    setting: 'channel.keyExchange',
    inProfile: (p) => p.channel.keyExchange === 'rsa',
    inChannel: (n) => n.keyExchange === 'rsa',
    weakness: 'channel keyExchange rsa has no forward secrecy: whoever later obtains the server key decrypts every recorded session',
    fix: 'channel.keyExchange: ecdhe-signed',
    lab: '04-forward-secrecy',
    attacks: ['retro-decrypt'],
  },
  {
    id: 'channel-unsigned-ecdhe',
    setting: 'channel.keyExchange',
    inProfile: (p) => p.channel.keyExchange === 'ecdhe',
    inChannel: (n) => n.keyExchange === 'ecdhe',
    weakness: 'channel keyExchange ecdhe is unauthenticated: a man in the middle can substitute its own key share and read everything',
    fix: 'channel.keyExchange: ecdhe-signed',
    lab: '05-secure-channel',
    attacks: ['mitm-self-signed'],
  },
  ...CHANNEL_CIPHER_ENTRIES,
  {
    id: 'channel-no-transcript-mac',
    setting: 'channel.transcriptMac',
    inProfile: (p) => CHANNEL_ON(p) && !p.channel.transcriptMac,
    inChannel: (n) => n.keyExchange !== 'none' && !n.transcriptMac,
    weakness: 'channel transcriptMac is off: nothing checks the handshake, so a man in the middle can downgrade the cipher offer',
    fix: 'channel.transcriptMac: true',
    lab: '07-downgrade',
    attacks: ['downgrade-cipher'],
  },
  {
    id: 'channel-no-replay-protection',
    setting: 'channel.replayProtection',
    inProfile: (p) => CHANNEL_ON(p) && p.channel.replayProtection === 'none',
    inChannel: (n) => n.keyExchange !== 'none' && n.replayProtection === 'none',
    weakness: 'channel replayProtection none: a recorded sealed frame can be replayed and is accepted again',
    fix: 'channel.replayProtection: sequence',
    lab: '06-replay',
    attacks: ['replay', 'replay-login'],
  },
  {
    id: 'plaintext-password-storage',
    setting: 'auth.storage',
    inProfile: (p) => p.auth.storage === 'plaintext',
    weakness: 'passwords are stored as they are: a stolen database reveals them all at once',
    fix: 'auth.storage: scrypt',
    lab: '08-password-storage',
    attacks: ['password-crack'],
  },
  {
    id: 'sha256-password-storage',
    setting: 'auth.storage',
    inProfile: (p) => p.auth.storage === 'sha256',
    weakness: 'passwords are stored as unsalted SHA-256: a dictionary attack tests hundreds of thousands of guesses per second on one core (millions on a GPU)',
    fix: 'auth.storage: scrypt',
    lab: '08-password-storage',
    attacks: ['password-crack'],
  },
  {
    id: 'password-equivalent-proof',
    setting: 'auth.method',
    inProfile: (p) => p.auth.method === 'challenge',
    weakness: 'the login proof is keyed with the stored value, so the database is password-equivalent: whoever steals it logs in as anyone without cracking',
    fix: 'auth.method: password over verified TLS (a real fix is SCRAM, RFC 5802, or OPAQUE, RFC 9807)',
    lab: '08-password-storage',
    attacks: ['password-crack'],
  },
];

const plain = ({ setting, weakness, fix, lab, attacks }: Weakness): Weakness => ({ setting, weakness, fix, lab, attacks });

/** The entry with this id. @throws Error for an unknown id (a typo in code, not user input) */
export function weakSetting(id: string): WeakSetting {
  const w = WEAK_SETTINGS.find((x) => x.id === id);
  if (!w) throw new Error(`no weak setting "${id}"`);
  return w;
}

/** Every entry's setting, weakness, fix and lab, in order (for checks that each lab exists). */
export function allWeaknesses(): Weakness[] {
  return WEAK_SETTINGS.map(plain);
}

/** The weak settings a profile chooses, advice included, in list order. */
export function weaknessesOf(p: Profile): Weakness[] {
  return WEAK_SETTINGS.filter((w) => w.inProfile?.(p)).map(plain);
}

/** Options of the warning functions. */
export interface WarningOptions {
  /** name the fix (default true); false during a lab the student has not passed yet, where the fix is the answer */
  fix?: boolean;
}

const line = (w: Weakness, o: WarningOptions) => (o.fix ?? true ? `${w.setting}: ${w.weakness} (fix: ${w.fix}; lab ${w.lab})` : `${w.setting}: ${w.weakness} (lab ${w.lab})`);

/** One-line warnings for the weak settings a profile chooses, advice left out. */
export function profileWarnings(p: Profile, opts: WarningOptions = {}): string[] {
  return WEAK_SETTINGS.filter((w) => !w.advice && w.inProfile?.(p)).map((w) => line(w, opts));
}

/** One-line advice for a profile (entries marked `advice`: worth knowing, not a mistake). */
export function adviceFor(p: Profile): string[] {
  return WEAK_SETTINGS.filter((w) => w.advice && w.inProfile?.(p)).map((w) => `${w.setting}: ${w.weakness} (fix: ${w.fix}; lab ${w.lab})`);
}

/**
 * Everything to warn about when a profile is used: how secchat applies its TLS settings
 * (core/tls/node-options.ts `tlsWarnings`), then its weak choices. The one list every caller prints or
 * records (CLI start of `server`/`client`/`attack`/`matrix`/`lab`, `profiles check`, results.json).
 */
export function warningsFor(p: Profile, opts: WarningOptions = {}): string[] {
  return [...tlsWarnings(p), ...profileWarnings(p, opts)];
}

/** The weakness sentences of a negotiated secure channel, most fundamental first; only "channel off" when it is off. */
export function channelWeaknessWarnings(n: ChannelSettings): string[] {
  return WEAK_SETTINGS.filter((w) => w.inChannel?.(n)).map((w) => w.weakness);
}
