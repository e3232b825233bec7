/**
 * The certificate gallery (in the spirit of badssl.com): certificates for the server's own names,
 * each with exactly one defect a correct verifier must refuse (RFC 5280 §6.1 path validation,
 * RFC 6125 §6.4 name matching, CA/Browser Forum key and digest minimums). The attacker presents
 * them in `mitm-gallery`. Every one but the defect is sound, and all chain to the lab CA, so a
 * client that trusts the lab CA and refuses one has refused it for *that* defect.
 *
 * Built with node-forge (as core/pki.ts), which can make every defect here: short RSA keys, SHA-1
 * signatures, arbitrary extendedKeyUsage and basicConstraints. RSA keys come from node:crypto.
 * Generated on demand into `<pki dir>/gallery/` and cached there (keys 0600, folder 0700).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import path from 'node:path';
import forge from 'node-forge';
import { NOT_BEFORE_BACKDATE_MS, type PkiMaterial } from './pki.ts';
import type { CertKeyPem } from './tls/node-options.ts';

/** Sub-folder of the PKI folder holding the gallery. */
export const GALLERY_DIR = 'gallery';
/** Days the "valid" gallery certificates are valid: short, the cache is remade when they run out. */
export const GALLERY_VALIDITY_DAYS = 90;
const DAY_MS = 86_400_000;

/** The gallery's certificates, each named for its one defect. */
export const GALLERY_ENTRIES = [
  'expired',
  'not-yet-valid',
  'missing-intermediate',
  'leaf-as-issuer',
  'cn-only',
  'wildcard-mismatch',
  'rsa-1024',
  'sha1-signature',
  'wrong-eku',
] as const;
export type GalleryEntry = (typeof GALLERY_ENTRIES)[number];

/** What each certificate's defect is, in one sentence, and the words a refusal naming it contains. */
export const GALLERY_DEFECTS: Readonly<Record<GalleryEntry, { defect: string; names: RegExp }>> = {
  expired: { defect: 'expired: notAfter is yesterday', names: /expired/i },
  'not-yet-valid': { defect: 'not yet valid: notBefore is tomorrow', names: /not yet valid/i },
  'missing-intermediate': { defect: 'issued by an intermediate CA the server does not send, so the chain to the root cannot be built', names: /issuer|unknown ca|UNABLE_TO_GET_ISSUER/i },
  'leaf-as-issuer': { defect: "issued by the lab server's own leaf certificate (basicConstraints CA:FALSE) acting as a CA", names: /INVALID_CA|not a CA|invalid CA/i },
  'cn-only': { defect: 'the name is only in the subject CN, with no subjectAltName (RFC 6125 §6.4.4: CN is not checked)', names: /subjectAltName|hostname/i },
  'wildcard-mismatch': { defect: 'a wildcard *.localhost, which does not cover the bare name localhost (RFC 6125 §6.4.3)', names: /hostname|\*\.localhost/i },
  'rsa-1024': { defect: 'a 1024-bit RSA key (under the 2048-bit minimum)', names: /key too small|KEY_TOO_SMALL|1024/i },
  'sha1-signature': { defect: 'signed with SHA-1 (sha1WithRSAEncryption)', names: /SHA-?1|MD_TOO_WEAK|digest too weak/i },
  'wrong-eku': { defect: 'extendedKeyUsage clientAuth only: not issued for TLS servers', names: /INVALID_PURPOSE|purpose|key usage/i },
};

interface Spec {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  isCa?: boolean;
  notBefore: Date;
  notAfter: Date;
  keyBits?: number;
  digest?: 'sha256' | 'sha1';
  eku?: 'serverAuth' | 'clientAuth';
  issuer: CertKeyPem | null;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** One certificate per `spec`, signed by `spec.issuer` (or itself). @returns PEM cert and PKCS#8 key */
function build(spec: Spec): CertKeyPem {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: spec.keyBits ?? 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = serial();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const subject = [{ shortName: 'CN', value: spec.commonName }, { shortName: 'O', value: 'secchat gallery' }];
  cert.setSubject(subject);
  let signer = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  let aki: string | true = true;
  if (spec.issuer) {
    const ic = forge.pki.certificateFromPem(spec.issuer.certPem.split(/(?<=-----END CERTIFICATE-----)/)[0]!);
    signer = forge.pki.privateKeyFromPem(spec.issuer.keyPem) as forge.pki.rsa.PrivateKey;
    cert.setIssuer(ic.subject.attributes);
    const ski = ic.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
    aki = ski?.subjectKeyIdentifier ? forge.util.hexToBytes(ski.subjectKeyIdentifier) : ic.generateSubjectKeyIdentifier().getBytes();
  } else cert.setIssuer(subject);
  const alt = [...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(spec.ipAddresses ?? []).map((ip) => ({ type: 7, ip }))];
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: !!spec.isCa },
    spec.isCa ? { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true } : { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    ...(spec.isCa ? [] : [{ name: 'extKeyUsage', [spec.eku ?? 'serverAuth']: true }]),
    ...(alt.length ? [{ name: 'subjectAltName', altNames: alt }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: aki },
  ]);
  cert.sign(signer, spec.digest === 'sha1' ? forge.md.sha1.create() : forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}

/**
 * Makes one gallery certificate for the server names `names` (default localhost + 127.0.0.1).
 * `certPem` holds the chain the attacker sends (leaf first) — for `leaf-as-issuer`, the leaf and
 * the lab server leaf that signed it; for `missing-intermediate`, the leaf alone.
 */
export function makeGalleryCertificate(entry: GalleryEntry, pki: Pick<PkiMaterial, 'ca' | 'server'>, now = new Date(), names = { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }): CertKeyPem {
  const ca = { certPem: pki.ca.certPem, keyPem: pki.ca.keyPem };
  const from = new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS);
  const to = new Date(now.getTime() + GALLERY_VALIDITY_DAYS * DAY_MS);
  const base: Spec = { ...names, notBefore: from, notAfter: to, issuer: ca };
  switch (entry) {
    case 'expired':
      return build({ ...base, notBefore: new Date(now.getTime() - 30 * DAY_MS), notAfter: new Date(now.getTime() - DAY_MS) });
    case 'not-yet-valid':
      return build({ ...base, notBefore: new Date(now.getTime() + DAY_MS), notAfter: new Date(now.getTime() + 60 * DAY_MS) });
    case 'missing-intermediate': {
      const inter = build({ commonName: 'secchat Gallery Intermediate CA', isCa: true, notBefore: from, notAfter: to, issuer: ca });
      return build({ ...base, issuer: inter });
    }
    case 'leaf-as-issuer': {
      const leafIssuer = { certPem: pki.server.certPem, keyPem: pki.server.keyPem };
      const leaf = build({ ...base, issuer: leafIssuer });
      return { certPem: leaf.certPem.trim() + '\n' + pki.server.certPem.trim() + '\n', keyPem: leaf.keyPem };
    }
    case 'cn-only':
      return build({ ...base, dnsNames: [], ipAddresses: [] });
    case 'wildcard-mismatch':
      return build({ ...base, commonName: '*.localhost', dnsNames: ['*.localhost'], ipAddresses: [] });
    case 'rsa-1024':
      return build({ ...base, keyBits: 1024 });
    case 'sha1-signature':
      return build({ ...base, digest: 'sha1' });
    case 'wrong-eku':
      return build({ ...base, eku: 'clientAuth' });
  }
}

/**
 * The gallery for a PKI, from `<pki.dir>/gallery/` when cached and still current, else made now
 * and cached (folder 0700, keys 0600).
 */
export function loadGallery(pki: PkiMaterial, now = new Date()): Record<GalleryEntry, CertKeyPem> {
  const dir = path.join(pki.dir, GALLERY_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = {} as Record<GalleryEntry, CertKeyPem>;
  for (const e of GALLERY_ENTRIES) {
    const certFile = path.join(dir, `${e}.crt`);
    const keyFile = path.join(dir, `${e}.key`);
    let pair: CertKeyPem | null = null;
    if (existsSync(certFile) && existsSync(keyFile)) {
      const certPem = readFileSync(certFile, 'utf8');
      const leaf = new X509Certificate(certPem);
      // The chain must still lead to this PKI's CA, and time-sensitive entries must still be what they claim.
      const issuerOk = e === 'missing-intermediate' || e === 'leaf-as-issuer' || leaf.checkIssued(new X509Certificate(pki.ca.certPem));
      const timeOk = e === 'expired' ? new Date(leaf.validTo) < now : e === 'not-yet-valid' ? new Date(leaf.validFrom) > now : new Date(leaf.validTo) > now;
      const chainOk = e !== 'leaf-as-issuer' || certPem.includes(pki.server.certPem.trim());
      if (issuerOk && timeOk && chainOk) pair = { certPem, keyPem: readFileSync(keyFile, 'utf8') };
    }
    if (!pair) {
      pair = makeGalleryCertificate(e, pki, now);
      writeFileSync(certFile, pair.certPem);
      writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
      chmodSync(keyFile, 0o600);
    }
    out[e] = pair;
  }
  return out;
}
