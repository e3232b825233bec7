/**
 * The server side of the secure channel handshake (`handshake.ts` has the states and modes):
 * `ch_hello` in, refused unless its settings equal this side's profile (`parameter_mismatch`);
 * `ch_server_hello` out with the chosen cipher, a key share and, for ecdhe-signed, a signature
 * (like the TLS 1.2 ServerKeyExchange, RFC 5246 §7.4.3); then `ch_key` and the Finished MACs.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { ERROR_CODES, UsageError } from '../errors.ts';
import { channelError } from './errors.ts';
import {
  CHANNEL_PROTOCOL_VERSION,
  readBase64,
  readBoolean,
  readCipherOffer,
  readEnum,
  type ChFinishedFrame,
  type ChServerHelloFrame,
  type ChannelFrame,
  type ChannelKeyExchange,
} from './handshake-messages.ts';
import { ChannelEndpoint, type ChannelOptions } from './handshake-endpoint.ts';
import { deriveSessionKeys, RANDOM_BYTES } from './kdf.ts';
import { checkedServerIdentity, rsaOaepUnwrap, serverShareSignedData, signWithKey, signatureSchemeFor, spkiPin, x25519KeyPairFromScalar, x25519SharedSecret, X25519_KEY_BYTES } from './keyexchange.ts';
import { chooseCipher } from './policy.ts';

/** Largest RSA-wrapped secret accepted in `ch_key` (RSA-8192). */
export const MAX_WRAPPED_SECRET_BYTES = 1024;

const KEY_EXCHANGES: readonly ChannelKeyExchange[] = ['rsa', 'ecdhe', 'ecdhe-signed'];
const REPLAY_MODES = ['none', 'sequence', 'window'] as const;

/**
 * The server side of the channel.
 * @example
 *   const server = new ChannelServer({ profileChannel: profile.channel, serverCert: { certPem, keyPem } });
 *   onFrame((f) => { const a = server.handle(f); a.send.forEach(send); a.deliver.forEach(dispatch) });
 */
export class ChannelServer extends ChannelEndpoint {
  readonly role = 'server' as const;
  readonly #certPem?: string;
  readonly #key?: KeyObject;
  #clientRandom?: Buffer;
  #serverRandom?: Buffer;

  /**
   * @throws UsageError when keyExchange is rsa or ecdhe-signed and serverCert is missing, unreadable,
   *         does not match its key, or (rsa) is not RSA
   */
  constructor(opts: ChannelOptions) {
    super(opts, 'wait_client_hello');
    const kx = this.config.keyExchange;
    if (kx !== 'rsa' && kx !== 'ecdhe-signed') return;
    const sc = opts.serverCert;
    if (!sc || typeof sc.certPem !== 'string' || typeof sc.keyPem !== 'string') {
      throw new UsageError(ERROR_CODES.USAGE, `channel.keyExchange ${kx} needs options.serverCert { certPem, keyPem } on the server`);
    }
    const { cert, key } = checkedServerIdentity(sc.certPem, sc.keyPem);
    if (kx === 'rsa' && key.asymmetricKeyType !== 'rsa') throw new UsageError(ERROR_CODES.USAGE, `channel.keyExchange rsa needs an RSA server key (options.serverCert is ${key.asymmetricKeyType})`);
    if (kx === 'ecdhe-signed' && !signatureSchemeFor(key)) throw new UsageError(ERROR_CODES.USAGE, `channel.keyExchange ecdhe-signed needs an RSA, EC or Ed25519 server key (options.serverCert is ${key.asymmetricKeyType})`);
    this.#certPem = sc.certPem;
    this.#key = key;
    this.serverPin = spkiPin(cert.publicKey);
  }

  protected onHandshakeFrame(frame: Record<string, unknown>): ChannelFrame[] {
    if (this.current === 'wait_client_hello' && frame.type === 'ch_hello') return this.#onClientHello(frame);
    if (this.current === 'wait_key' && frame.type === 'ch_key') return this.#onKey(frame);
    if (this.current === 'wait_client_finished' && frame.type === 'ch_finished') {
      this.checkFinished(frame, this.keys!.clientFinishedKey);
      const fin: ChFinishedFrame = { type: 'ch_finished', verify: this.finishedMac(this.keys!.serverFinishedKey).toString('base64') };
      this.transcript.push(fin);
      this.establish();
      return [fin];
    }
    return this.unexpected(frame);
  }

  #onClientHello(f: Record<string, unknown>): ChannelFrame[] {
    if (f.version !== CHANNEL_PROTOCOL_VERSION) throw channelError('parameter_mismatch', `client speaks channel version ${JSON.stringify(f.version)}, this server ${CHANNEL_PROTOCOL_VERSION}`, { setting: 'version' });
    const kx = readEnum(f, 'keyExchange', KEY_EXCHANGES);
    const transcriptMac = readBoolean(f, 'transcriptMac');
    const replayProtection = readEnum(f, 'replayProtection', REPLAY_MODES);
    const mismatches = (
      [
        ['keyExchange', kx, this.config.keyExchange],
        ['transcriptMac', transcriptMac, this.config.transcriptMac],
        ['replayProtection', replayProtection, this.config.replayProtection],
      ] as const
    ).filter(([, client, server]) => client !== server);
    if (mismatches.length) {
      throw channelError('parameter_mismatch', `client and server channel settings differ: ${mismatches.map(([s, c, v]) => `${s} client ${c} / server ${v}`).join(', ')}`, {
        mismatches: mismatches.map(([setting, client, server]) => ({ setting, client, server })),
      });
    }
    const offer = readCipherOffer(f);
    const clientRandom = readBase64(f, 'random', { bytes: RANDOM_BYTES });
    const clientShare = kx === 'rsa' ? undefined : readBase64(f, 'share', { bytes: X25519_KEY_BYTES });
    const cipher = chooseCipher(this.config.ciphers, offer);
    if (!cipher) throw channelError('no_common_cipher', `no common channel cipher: client offered ${offer.join(', ') || 'nothing known'}, server supports ${this.config.ciphers.join(', ')}`, { offered: offer, supported: [...this.config.ciphers] });
    this.transcript.push(f);
    const serverRandom = this.randomBytes(RANDOM_BYTES);
    const hello: ChServerHelloFrame = { type: 'ch_server_hello', version: CHANNEL_PROTOCOL_VERSION, cipher, random: serverRandom.toString('base64') };
    this.cipher = cipher;
    if (kx === 'rsa') {
      hello.certificate = this.#certPem!;
      this.#clientRandom = clientRandom;
      this.#serverRandom = serverRandom;
      this.current = 'wait_key';
    } else {
      const share = x25519KeyPairFromScalar(this.randomBytes(X25519_KEY_BYTES));
      hello.share = share.publicRaw.toString('base64');
      if (kx === 'ecdhe-signed') {
        const { scheme, signature } = signWithKey(this.#key!, serverShareSignedData(clientRandom, serverRandom, share.publicRaw));
        hello.certificate = this.#certPem!;
        hello.signatureScheme = scheme;
        hello.signature = signature.toString('base64');
      }
      const secret = x25519SharedSecret(share.privateKey, clientShare!);
      if (!secret) throw channelError('illegal_parameter', 'the client X25519 share is unusable (low-order point)');
      this.keys = deriveSessionKeys(secret, clientRandom, serverRandom, cipher);
    }
    this.transcript.push(hello);
    if (kx !== 'rsa') {
      if (this.config.transcriptMac) this.current = 'wait_client_finished';
      else this.establish();
    }
    return [hello];
  }

  #onKey(f: Record<string, unknown>): ChannelFrame[] {
    const wrapped = readBase64(f, 'wrappedSecret', { maxBytes: MAX_WRAPPED_SECRET_BYTES });
    let secret = rsaOaepUnwrap(this.#key!, wrapped);
    // Implicit rejection (as RFC 5246 §7.4.7.1 does for PKCS#1 v1.5): on a bad unwrap, go on with a
    // random secret so the failure shows up later as a MAC failure, not as a distinct error an
    // attacker could use as a decryption oracle (Manger 2001).
    if (!secret || secret.length !== RANDOM_BYTES) secret = this.randomBytes(RANDOM_BYTES);
    this.transcript.push(f);
    this.keys = deriveSessionKeys(secret, this.#clientRandom!, this.#serverRandom!, this.cipher!);
    if (this.config.transcriptMac) this.current = 'wait_client_finished';
    else this.establish();
    return [];
  }
}
