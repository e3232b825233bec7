/** Builders for channel client/server pairs over the test PKI. */
import { ChannelClient, ChannelServer, type VerifyCertificate } from '../../core/channel/handshake.ts';
import { profileSchema, type Profile } from '../../core/profile.ts';
import { testPki, trustCa, type TestCert } from './channel-pki.ts';
import { seededRandom } from './channel-pump.ts';

export type ChannelSettings = Profile['channel'];

/**
 * A profile channel section through the real schema, so defaults are the real ones. (The schema,
 * not validateProfile: the machines must also behave with settings a profile file may not write,
 * such as ciphers on a disabled channel.)
 */
export function channelSettings(over: Partial<ChannelSettings> = {}): ChannelSettings {
  return profileSchema.parse({ name: 'channel-test', channel: over }).channel;
}

export interface PairOptions {
  both?: Partial<ChannelSettings>;
  client?: Partial<ChannelSettings>;
  server?: Partial<ChannelSettings>;
  verifyCertificate?: VerifyCertificate;
  serverCert?: TestCert;
  now?: () => number;
  clientNow?: () => number;
  serverNow?: () => number;
  seed?: string;
}

/** A client and a server; the client trusts the test CA unless told otherwise. */
export function makePair(o: PairOptions = {}): { client: ChannelClient; server: ChannelServer } {
  const pki = testPki();
  const client = new ChannelClient({
    profileChannel: channelSettings({ ...o.both, ...o.client }),
    verifyCertificate: o.verifyCertificate ?? trustCa(pki.ca.certPem),
    randomBytes: o.seed ? seededRandom(`${o.seed}/client`) : undefined,
    now: o.clientNow ?? o.now,
  });
  const server = new ChannelServer({
    profileChannel: channelSettings({ ...o.both, ...o.server }),
    serverCert: o.serverCert ?? pki.server,
    randomBytes: o.seed ? seededRandom(`${o.seed}/server`) : undefined,
    now: o.serverNow ?? o.now,
  });
  return { client, server };
}
