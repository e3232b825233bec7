/**
 * The attacker as an ordinary client of the real server: it connects the way any user of the
 * profile would (same transport, same trust in the lab CA) and logs in with credentials it
 * recovered — a password read in a login frame, or guessed offline from a recorded proof.
 */
import type { ChatClient } from '../../client/chat-client.ts';
import { describeError } from '../../core/errors.ts';
import type { PkiMaterial } from '../../core/pki.ts';
import type { Profile } from '../../core/profile.ts';
import { connectLabClient } from './lab-client.ts';

/** Time limits of the attacker's own login, ms. */
const LOGIN_TIMEOUT_MS = 4000;

/**
 * Logs in to the server on `port` as `username` with `password`, then leaves.
 * @returns ok with the client's local address (how the server's log names it), or the refusal
 */
export async function loginAs(profile: Profile, pki: PkiMaterial, port: number, username: string, password: string): Promise<{ ok: true; peer: string | null } | { ok: false; why: string }> {
  for (let attempt = 0; ; attempt++) {
    let client: ChatClient | null = null;
    try {
      client = await connectLabClient(profile, pki, port, { timeoutMs: { connectMs: LOGIN_TIMEOUT_MS, requestMs: LOGIN_TIMEOUT_MS } });
      await client.login(username, password);
      return { ok: true, peer: client.localAddress };
    } catch (err) {
      const d = describeError(err);
      // The victim's own session may still be closing after its quit: try once more.
      if (attempt === 0 && /already_logged_in/.test(d.message)) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      return { ok: false, why: `${d.code}: ${d.message}` };
    } finally {
      await client?.quit();
    }
  }
}
