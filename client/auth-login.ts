/**
 * How the client logs in: with the password (`auth: password`) or by challenge–response
 * (`auth: challenge`, core/auth-proof.ts). The server's welcome names the method; the client
 * follows it, but never below its own profile — a profile that says `challenge` refuses to send
 * the password to a server (or a man-in-the-middle rewriting the welcome) that asks for it, and
 * refuses a challenge for a weaker verifier than its own `auth.storage`.
 */
import type { Frame } from '../core/frames.ts';
import { deriveVerifierKey, loginProof, parseChallenge } from '../core/auth-proof.ts';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';
import type { Profile } from '../core/profile.ts';
import { normalizeUsername } from '../core/usernames.ts';

/** Sends a request and resolves with the frame that answers it (ChatClient.request). */
export type RequestFn = (frame: Frame) => Promise<Frame>;

/**
 * Logs in by the method the welcome names.
 * @param request  sends one request (rejects with SecchatError SERVER on an error frame)
 * @param welcome  the server's welcome frame (its `auth` field: `password` or `challenge`)
 * @param auth     the client's own profile `auth` section (the floor it will not go below)
 * @returns the server's `ok` frame
 * @throws SecchatError PROTOCOL when the server asks for a weaker method or verifier than the
 *   profile allows (details.reason); SecchatError SERVER when it refuses the login
 */
export async function authenticate(request: RequestFn, welcome: Frame | null, auth: Profile['auth'], username: string, password: string): Promise<Frame> {
  const method = welcome?.auth === 'challenge' ? 'challenge' : 'password';
  if (method === 'password' && auth.method === 'challenge') {
    const reason = 'auth downgrade';
    throw new SecchatError(ERROR_CODES.PROTOCOL, `the server asks for a password login (auth: ${String(welcome?.auth)}) but this profile requires challenge-response: refusing to send the password`, { reason });
  }
  if (method === 'password') return request({ type: 'login', username, password });
  const challenge = await request({ type: 'auth_challenge', username });
  const name = normalizeUsername(username);
  const parsed = parseChallenge(challenge, name.ok ? name.username : username, auth.storage);
  const key = await deriveVerifierKey(password, parsed);
  return request({ type: 'login', username: parsed.username, proof: loginProof(key, parsed.nonce, parsed.username).toString('base64') });
}
