// A target MITM run that shows nothing (canary neither read nor refused) is run once more; a run
// with a verdict never is. Observations are crafted: the proxy saw only ciphertext.
import { describe, expect, it } from 'vitest';
import { judgedWithOneRetry } from '../attacks/targets/mitm-verdict.ts';
import type { TargetObservations } from '../attacks/targets/scenario.ts';

function observations(delivered: boolean): TargetObservations {
  const engine = { traffic: [], connections: [], bytes: () => Buffer.alloc(0) };
  return {
    canary: 'canary-0123456789abcdef01234567',
    sendText: 'canary-0123456789abcdef01234567\n',
    proxy: { connections: [], engine },
    server: { port: 1, output: '' },
    client: { output: delivered ? 'connected with TLSv1.3' : 'connected with TLSv1.3\nUsername:', stderr: '', exit: null, argv: ['python3', 'client.py'] },
    observer: null,
    serverLogged: delivered,
    delivered,
    durationMs: 5,
  } as unknown as TargetObservations;
}

describe('judgedWithOneRetry', () => {
  it('runs a second time only when the first run gave no verdict, and says so', async () => {
    const runs = [observations(false), observations(true)];
    let calls = 0;
    const v = await judgedWithOneRetry(async () => runs[calls++]!, false);
    expect(calls).toBe(2);
    expect(v.outcome).toBe('blocked');
    expect(v.evidence[0]).toMatchObject({ kind: 'retried' });
    expect(v.evidence[0]!.detail).toMatch(/the first run gave no verdict \(the canary was not read/);
  });

  it('keeps a first verdict without running again', async () => {
    let calls = 0;
    const v = await judgedWithOneRetry(async () => (calls++, observations(true)), false);
    expect(calls).toBe(1);
    expect(v.outcome).toBe('blocked');
    expect(v.evidence.some((e) => e.kind === 'retried')).toBe(false);
  });

  it('two runs without a verdict stay an error (no third run)', async () => {
    let calls = 0;
    const v = await judgedWithOneRetry(async () => (calls++, observations(false)), false);
    expect(calls).toBe(2);
    expect(v.outcome).toBe('error');
  });
});
