/**
 * Offline guessing of a password from one recorded challenge–response login (core/auth-proof.ts):
 * the attacker holds the server's challenge (nonce, storage, salt, scrypt parameters) and alice's
 * proof = HMAC-SHA256(K, "secchat-login" ‖ nonce ‖ username); for each candidate it derives K the
 * way the server stores it and recomputes the proof. No server is asked: guesses are free of rate
 * limits, and under `sha256` or `plaintext` storage each costs one fast hash.
 */
import { timingSafeEqual } from 'node:crypto';
import { deriveVerifierKey, loginProof, parseChallenge } from '../../core/auth-proof.ts';
import { describeError } from '../../core/errors.ts';
import type { Frame } from '../../core/frames.ts';
import { DEFAULT_LIMITS } from '../../server/chat-server.ts';
import { loadWordlist, measureScryptRate } from '../password-cracker.ts';

/** Longest time spent guessing one recorded proof, ms (bounds a scrypt-stored account's run). */
export const OFFLINE_GUESS_BUDGET_MS = 1500;

/** What {@link guessProofOffline} found. */
export interface OfflineGuess {
  /** the password whose proof matched, or null */
  password: string | null;
  /** guesses made (one key derivation and one HMAC each) */
  guesses: number;
  /** one sentence: how the guess went, with numbers */
  detail: string;
}

/**
 * Tries the common-password list against a recorded proof.
 * @param challengeFrame the server's `challenge` frame as recorded
 * @param proofB64       the `proof` field of alice's `login` frame
 * @returns the match (a real proof comparison) or null; never throws for a bad recording
 */
export async function guessProofOffline(
  challengeFrame: Frame,
  proofB64: string,
  username: string,
  opts: { budgetMs?: number; thief?: { budgetCoreSeconds: number; knownPassword: string | undefined } } = {},
): Promise<OfflineGuess> {
  const budgetMs = opts.budgetMs ?? OFFLINE_GUESS_BUDGET_MS;
  let challenge;
  try {
    challenge = parseChallenge(challengeFrame, username, 'plaintext');
  } catch (err) {
    return { password: null, guesses: 0, detail: `could not use the recorded challenge: ${describeError(err).message}` };
  }
  const proof = Buffer.from(proofB64, 'base64');
  const words = loadWordlist().filter((w) => w.length >= DEFAULT_LIMITS.minPasswordChars);
  if (challenge.storage === 'scrypt' && challenge.params && opts.thief) {
    // Slow verifier: judged by the thief's budget — the single-core rate measured, guesses that
    // cannot match charged at it, the candidate that matches checked with a real derivation.
    const rate = await measureScryptRate({ N: challenge.params.N, r: challenge.params.r, p: challenge.params.p, keyBytes: challenge.params.dkLen });
    const i = opts.thief.knownPassword === undefined ? -1 : words.indexOf(opts.thief.knownPassword);
    if (i >= 0) {
      const p = loginProof(await deriveVerifierKey(words[i], challenge), challenge.nonce, username);
      const seconds = (i + 1) / rate.perSecond;
      if (p.length === proof.length && timingSafeEqual(p, proof)) {
        if (seconds <= opts.thief.budgetCoreSeconds) {
          return { password: words[i], guesses: i + 1, detail: `guessed her password offline: candidate #${i + 1} of the common-password list reproduced her proof (scrypt verifier at a measured ${rate.perSecond.toFixed(1)} guesses/s per core: ${seconds.toFixed(0)} s of one core; the match computed for real, the ${i} guesses before it charged at that rate)` };
        }
        return { password: null, guesses: 1, detail: `her password is candidate #${i + 1}: ${seconds.toFixed(0)} s of one core at ${rate.perSecond.toFixed(1)} guesses/s, beyond the thief's budget of ${opts.thief.budgetCoreSeconds} core-seconds` };
      }
    }
    return { password: null, guesses: i >= 0 ? 1 : 0, detail: `no candidate of the ${words.length}-word list reproduces her proof (scrypt verifier; the whole list takes ${(words.length / rate.perSecond).toFixed(0)} s of one core at ${rate.perSecond.toFixed(1)} guesses/s)` };
  }
  const started = performance.now();
  let guesses = 0;
  for (const w of words) {
    if (performance.now() - started > budgetMs) break;
    const key = await deriveVerifierKey(w, challenge);
    guesses++;
    const p = loginProof(key, challenge.nonce, username);
    if (p.length === proof.length && timingSafeEqual(p, proof)) {
      const ms = performance.now() - started;
      return { password: w, guesses, detail: `guessed her password offline: candidate #${guesses} of the common-password list reproduced her proof (${challenge.storage} verifier, ${guesses} guesses in ${ms.toFixed(0)} ms, no server asked)` };
    }
  }
  const ms = performance.now() - started;
  const done = guesses === words.length;
  return {
    password: null,
    guesses,
    detail: done
      ? `guessed offline through all ${words.length} candidates (${challenge.storage} verifier, ${ms.toFixed(0)} ms): her password is in no list`
      : `guessed offline for ${ms.toFixed(0)} ms (${guesses} of ${words.length} candidates, ${challenge.storage} verifier) without a match`,
  };
}
