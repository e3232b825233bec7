/**
 * The PKI lab checks use: made by `secchat lab` itself under the lab home (`<home>/pki`), never a
 * folder the student passes in, and checked before every use so that a swapped file cannot turn an
 * attack into a hollow "blocked". Each attacker certificate must be what its role says (signature
 * chains per RFC 5280 §6.1 for one level, names per RFC 6125): a swapped rogue root whose
 * interception certificate no longer chains to it would make mitm-rogue-ca fail for the wrong
 * reason — the lab would then pass without pinning.
 */
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';
import { ensurePki, PKI_FILES, type PkiMaterial, type PkiRole } from '../core/pki.ts';

/** The lab PKI folder under a lab home. */
export function labPkiDir(home: string): string {
  return path.join(home, 'pki');
}

/**
 * Checks that every certificate of the PKI plays its role: the CA and the rogue root are distinct
 * self-signed CAs; the server certificate is issued by the CA for localhost; the self-signed
 * attacker names localhost under another key; the wrong-host attacker is issued by the CA for
 * another name; the rogue attacker is issued by the rogue root (not the CA) for localhost.
 * @returns the problems, one sentence each (empty when the PKI is sound)
 */
export function labPkiProblems(pki: PkiMaterial): string[] {
  const problems: string[] = [];
  let c: Record<PkiRole, X509Certificate>;
  try {
    c = Object.fromEntries((Object.keys(PKI_FILES) as PkiRole[]).map((k) => [k, new X509Certificate(pki[k].certPem)])) as Record<PkiRole, X509Certificate>;
  } catch (err) {
    return [`a certificate is unreadable: ${(err as Error).message}`];
  }
  const key = (x: X509Certificate) => x.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  // Name chaining and the signature (RFC 5280 §6.1.3); checkIssued also demands CA key usage, which a self-signed leaf lacks.
  const signedBy = (x: X509Certificate, issuer: X509Certificate) => x.issuer === issuer.subject && x.verify(issuer.publicKey);
  const names = (x: X509Certificate, host: string) => x.checkHost(host) !== undefined;
  const expect = (ok: boolean, what: string) => void (ok || problems.push(what));
  expect(c.ca.ca && signedBy(c.ca, c.ca), 'the lab CA is not a self-signed CA');
  expect(c.rogueCa.ca && signedBy(c.rogueCa, c.rogueCa), 'the rogue root is not a self-signed CA');
  expect(key(c.rogueCa) !== key(c.ca), 'the rogue root has the lab CA\'s key');
  expect(signedBy(c.server, c.ca) && names(c.server, 'localhost'), 'the server certificate is not issued by the lab CA for localhost');
  expect(signedBy(c.attackerSelfSigned, c.attackerSelfSigned) && names(c.attackerSelfSigned, 'localhost') && key(c.attackerSelfSigned) !== key(c.server), 'the self-signed attacker certificate is not a self-signed localhost certificate with its own key');
  expect(signedBy(c.attackerWrongHost, c.ca) && !names(c.attackerWrongHost, 'localhost') && key(c.attackerWrongHost) !== key(c.server), 'the wrong-host attacker certificate is not issued by the lab CA for another name under its own key');
  expect(signedBy(c.attackerRogue, c.rogueCa) && !signedBy(c.attackerRogue, c.ca) && names(c.attackerRogue, 'localhost') && key(c.attackerRogue) !== key(c.server), 'the rogue attacker certificate is not issued by the rogue root for localhost under its own key');
  return problems;
}

/**
 * The lab PKI under `home`, made on first use and checked on every use.
 * @param onCreate called before a new PKI is made (key generation takes seconds)
 * @throws SecchatError SECCHAT_ERR_LAB naming what is wrong and that deleting the folder remakes it
 */
export async function labPki(home: string, onCreate?: (dir: string) => void): Promise<PkiMaterial> {
  const dir = labPkiDir(home);
  const { existsSync } = await import('node:fs');
  if (!existsSync(path.join(dir, 'ca.crt'))) onCreate?.(dir);
  let pki: PkiMaterial;
  try {
    pki = await ensurePki(dir);
  } catch (err) {
    throw new SecchatError(ERROR_CODES.LAB, `the lab PKI in ${dir} is not usable (${(err as Error).message}); delete the folder and the next lab command makes a new one`, { dir }, { cause: err });
  }
  const problems = labPkiProblems(pki);
  if (problems.length) throw new SecchatError(ERROR_CODES.LAB, `the lab PKI in ${dir} was altered: ${problems.join('; ')}; delete the folder and the next lab command makes a new one`, { dir, problems });
  return pki;
}
