/**
 * A chat client of the lab, connected the way any user of a profile connects: to 127.0.0.1,
 * expecting the server name `localhost` (the lab server certificate's SAN), trusting what the
 * profile says to trust in the lab PKI (`resolveTrust`: the lab CA, a pin on the server key).
 * Used for the scripted victims (attacks/scenario.ts), the position probe (kit/position.ts) and the
 * attacker logging in as a user it recovered (kit/login-as.ts), so all three meet the same checks.
 */
import { ChatClient } from '../../client/chat-client.ts';
import type { PkiMaterial } from '../../core/pki.ts';
import type { Profile } from '../../core/profile.ts';
import { resolveTrust } from '../../core/tls/certificate-verification.ts';

/** Options of {@link connectLabClient}. */
export interface LabClientOptions {
  /** connect and per-request time limit, ms */
  timeoutMs: { connectMs: number; requestMs: number };
  /** extra trusted root CAs, PEM (a premise such as a rogue root); default none */
  extraCaPems?: string[];
  /** receives NSS key log lines of the client's TLS session */
  keylog?: (line: Buffer) => void;
}

/**
 * Connects a client with `profile` to the chat on 127.0.0.1:`port` (a server or a proxy in front
 * of one). Rejects with the client's own error (a certificate refusal, a timeout, a closed
 * connection) exactly as `ChatClient.connect` does.
 */
export function connectLabClient(profile: Profile, pki: PkiMaterial, port: number, opts: LabClientOptions): Promise<ChatClient> {
  return ChatClient.connect({
    profile,
    host: '127.0.0.1',
    servername: 'localhost',
    port,
    trust: resolveTrust(profile, pki.ca.certPem, pki.server.certPem, opts.extraCaPems ?? []),
    connectTimeoutMs: opts.timeoutMs.connectMs,
    requestTimeoutMs: opts.timeoutMs.requestMs,
    keylog: opts.keylog,
  });
}
