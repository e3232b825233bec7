/**
 * The client side of the secure channel handshake (`handshake.ts` has the states and modes):
 * `ch_hello` out; `ch_server_hello` in, checked against this side's own offer and, for rsa and
 * ecdhe-signed, its certificate verifier; then `ch_key` (RSA-OAEP, RFC 8017 §7.1) and the client
 * Finished.
 * @module
 */
import { type X509Certificate } from 'node:crypto';
import { ERROR_CODES, UsageError } from '../errors.ts';
import { CHANNEL_CIPHERS } from '../profile.ts';
import { channelError } from './errors.ts';
import {
  CHANNEL_PROTOCOL_VERSION,
  MAX_CERTIFICATE_PEM_CHARS,
  readBase64,
  readEnum,
  readString,
  type ChFinishedFrame,
  type ChHelloFrame,
  type ChKeyFrame,
  type ChannelFrame,
  type ChannelKeyExchange,
} from './handshake-messages.ts';
import { ChannelEndpoint, type CertificateVerdict, type ChannelOptions, type VerifyCertificate } from './handshake-endpoint.ts';
import { deriveSessionKeys, RANDOM_BYTES } from './kdf.ts';
import {
  parseCertificate,
  rsaOaepWrap,
  serverShareSignedData,
  spkiPin,
  verifyWithKey,
  x25519KeyPairFromScalar,
  x25519SharedSecret,
  X25519_KEY_BYTES,
  type X25519KeyPair,
} from './keyexchange.ts';

/** Largest signature accepted in `ch_server_hello` (RSA-8192 is 1024 bytes). */
export const MAX_SIGNATURE_BYTES = 1024;

/**
 * The client side of the channel.
 * @example
 *   const client = new ChannelClient({ profileChannel: profile.channel, verifyCertificate });
 *   for (const f of client.start()) send(f);
 *   onFrame((f) => { const a = client.handle(f); a.send.forEach(send); a.deliver.forEach(show) });
 *   send(client.seal({ type: 'msg', text: 'hi' }));
 */
export class ChannelClient extends ChannelEndpoint {
  readonly role = 'client' as const;
  readonly #verify?: VerifyCertificate;
  #clientRandom?: Buffer;
  #share?: X25519KeyPair;

  /** @throws UsageError when keyExchange is rsa or ecdhe-signed and no verifyCertificate is given */
  constructor(opts: ChannelOptions) {
    super(opts, 'idle');
    const kx = this.config.keyExchange;
    if ((kx === 'rsa' || kx === 'ecdhe-signed') && typeof opts.verifyCertificate !== 'function') {
      throw new UsageError(
        ERROR_CODES.USAGE,
        `channel.keyExchange ${kx} needs options.verifyCertificate (built from client.verify); to accept any certificate, as client.verify none does, pass () => ({ ok: true })`,
      );
    }
    this.#verify = opts.verifyCertificate;
  }

  /**
   * Starts the handshake.
   * @returns `[ch_hello]`, or `[]` when the channel is disabled
   * @throws UsageError when called twice
   */
  start(): ChannelFrame[] {
    if (this.current === 'disabled') return [];
    if (this.current !== 'idle') throw new UsageError(ERROR_CODES.USAGE, `ChannelClient.start(): already started (state ${this.current})`);
    this.#clientRandom = this.randomBytes(RANDOM_BYTES);
    const kx = this.config.keyExchange as ChannelKeyExchange;
    const hello: ChHelloFrame = {
      type: 'ch_hello',
      version: CHANNEL_PROTOCOL_VERSION,
      keyExchange: kx,
      ciphers: [...this.config.ciphers],
      transcriptMac: this.config.transcriptMac,
      replayProtection: this.config.replayProtection,
      random: this.#clientRandom.toString('base64'),
    };
    if (kx !== 'rsa') {
      this.#share = x25519KeyPairFromScalar(this.randomBytes(X25519_KEY_BYTES));
      hello.share = this.#share.publicRaw.toString('base64');
    }
    this.transcript.push(hello);
    this.current = 'wait_server_hello';
    return [hello];
  }

  protected onHandshakeFrame(frame: Record<string, unknown>): ChannelFrame[] {
    if (this.current === 'wait_server_hello' && frame.type === 'ch_server_hello') return this.#onServerHello(frame);
    if (this.current === 'wait_server_finished' && frame.type === 'ch_finished') {
      this.checkFinished(frame, this.keys!.serverFinishedKey);
      this.establish();
      return [];
    }
    return this.unexpected(frame);
  }

  #onServerHello(f: Record<string, unknown>): ChannelFrame[] {
    if (f.version !== CHANNEL_PROTOCOL_VERSION) throw channelError('parameter_mismatch', `server speaks channel version ${JSON.stringify(f.version)}, this client ${CHANNEL_PROTOCOL_VERSION}`, { setting: 'version' });
    const cipher = readEnum(f, 'cipher', CHANNEL_CIPHERS);
    if (!this.config.ciphers.includes(cipher)) {
      throw channelError('illegal_parameter', `server chose ${cipher}, which this client did not offer (${this.config.ciphers.join(', ')})`, { cipher, offered: [...this.config.ciphers] });
    }
    const serverRandom = readBase64(f, 'random', { bytes: RANDOM_BYTES });
    const kx = this.config.keyExchange;
    this.transcript.push(f);
    const out: ChannelFrame[] = [];
    let ikm: Buffer;
    if (kx === 'rsa') {
      const cert = this.#checkCertificate(f);
      if (cert.publicKey.asymmetricKeyType !== 'rsa') throw channelError('illegal_parameter', `keyExchange rsa needs an RSA certificate key, got ${cert.publicKey.asymmetricKeyType}`);
      ikm = this.randomBytes(RANDOM_BYTES);
      const key: ChKeyFrame = { type: 'ch_key', wrappedSecret: rsaOaepWrap(cert.publicKey, ikm).toString('base64') };
      this.transcript.push(key);
      out.push(key);
    } else {
      const share = readBase64(f, 'share', { bytes: X25519_KEY_BYTES });
      if (kx === 'ecdhe-signed') {
        const scheme = readString(f, 'signatureScheme', 64);
        const signature = readBase64(f, 'signature', { maxBytes: MAX_SIGNATURE_BYTES });
        const cert = this.#checkCertificate(f);
        if (!verifyWithKey(cert.publicKey, scheme, serverShareSignedData(this.#clientRandom!, serverRandom, share), signature)) {
          throw channelError('bad_signature', `the ${scheme} signature over the server key share does not verify with the certificate key`, { scheme });
        }
      }
      const secret = x25519SharedSecret(this.#share!.privateKey, share);
      if (!secret) throw channelError('illegal_parameter', 'the server X25519 share is unusable (low-order point)');
      ikm = secret;
    }
    this.keys = deriveSessionKeys(ikm, this.#clientRandom!, serverRandom, cipher);
    this.cipher = cipher;
    this.#share = undefined;
    if (this.config.transcriptMac) {
      const fin: ChFinishedFrame = { type: 'ch_finished', verify: this.finishedMac(this.keys.clientFinishedKey).toString('base64') };
      this.transcript.push(fin);
      out.push(fin);
      this.current = 'wait_server_finished';
    } else {
      this.establish();
    }
    return out;
  }

  /** Parses the certificate, runs the injected verifier, records the SPKI pin. */
  #checkCertificate(f: Record<string, unknown>): X509Certificate {
    const pem = readString(f, 'certificate', MAX_CERTIFICATE_PEM_CHARS);
    const cert = parseCertificate(pem);
    if (!cert) throw channelError('decode_error', 'ch_server_hello.certificate: not a PEM certificate', { field: 'ch_server_hello.certificate' });
    let verdict: CertificateVerdict;
    try {
      verdict = this.#verify!(pem);
    } catch (err) {
      throw channelError('certificate_rejected', `the certificate verifier failed: ${(err as Error).message}`, { verifierCode: 'verifier_threw' }, err);
    }
    if (!verdict.ok) throw channelError('certificate_rejected', `server certificate rejected: ${verdict.message}`, { verifierCode: verdict.code });
    this.serverPin = spkiPin(cert.publicKey);
    return cert;
  }
}
