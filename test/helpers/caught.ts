/**
 * The error a synchronous call throws, for tests that assert on its fields (code, details,
 * message) rather than only on its message.
 */

/**
 * Runs `f` and returns what it throws.
 * @throws Error('did not throw') when `f` returns normally, so the test fails there
 */
export function caught(f: () => unknown): any {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}
