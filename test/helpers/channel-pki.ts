/**
 * Test PKI for the channel tests: a CA, a server certificate it issued, and an attacker's
 * self-signed certificate, all RSA-2048 (keys from node:crypto, certificates from node-forge).
 * Plus the certificate verifiers a client would get from client.verify none / ca / pin.
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateVerdict, VerifyCertificate } from '../../core/channel/handshake.ts';

export interface TestCert {
  certPem: string;
  keyPem: string;
}

function rsaKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

let serial = 1;
function makeCert(subjectCn: string, subjectPublicPem: string, issuer: { cn: string; keyPem: string }, isCa: boolean): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(subjectPublicPem);
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setIssuer([{ name: 'commonName', value: issuer.cn }]);
  cert.setExtensions(isCa ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }] : [{ name: 'basicConstraints', cA: false }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }]);
  cert.sign(forge.pki.privateKeyFromPem(issuer.keyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export interface TestPki {
  ca: TestCert;
  server: TestCert;
  /** self-signed, claims to be the server */
  attacker: TestCert;
}

let cached: TestPki | undefined;
/** The test PKI, generated once per test file. */
export function testPki(): TestPki {
  if (cached) return cached;
  const caKeys = rsaKeyPair();
  const serverKeys = rsaKeyPair();
  const attackerKeys = rsaKeyPair();
  const caCert = makeCert('secchat test CA', caKeys.publicPem, { cn: 'secchat test CA', keyPem: caKeys.privatePem }, true);
  cached = {
    ca: { certPem: caCert, keyPem: caKeys.privatePem },
    server: { certPem: makeCert('localhost', serverKeys.publicPem, { cn: 'secchat test CA', keyPem: caKeys.privatePem }, false), keyPem: serverKeys.privatePem },
    attacker: { certPem: makeCert('localhost', attackerKeys.publicPem, { cn: 'localhost', keyPem: attackerKeys.privatePem }, false), keyPem: attackerKeys.privatePem },
  };
  return cached;
}

/** client.verify none: every certificate passes. */
export const acceptAnyCertificate: VerifyCertificate = () => ({ ok: true });

/** client.verify ca: the certificate must be issued and signed by `caPem`. */
export function trustCa(caPem: string): VerifyCertificate {
  const ca = new X509Certificate(caPem);
  return (pem): CertificateVerdict => {
    const cert = new X509Certificate(pem);
    if (cert.checkIssued(ca) && cert.verify(ca.publicKey)) return { ok: true };
    return { ok: false, code: 'unknown_ca', message: `${cert.subject.replace(/\n/g, ', ')} is not issued by the trusted CA` };
  };
}

/** client.verify pin: the certificate key's SPKI SHA-256 must equal `pin`. */
export function pinVerifier(pin: string): VerifyCertificate {
  return (pem): CertificateVerdict => {
    const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
    const got = 'sha256/' + createHash('sha256').update(der).digest('base64');
    return got === pin ? { ok: true } : { ok: false, code: 'pin_mismatch', message: `SPKI pin ${got} is not the pinned ${pin}` };
  };
}
