/**
 * A certificate's subject or issuer as one line of text (RFC 4514 attribute types, node's
 * `X509Certificate.subject` spelling: one `TYPE=value` per line). Only the attributes present are
 * printed: an attribute with an empty value (a certificate may carry `O=` with nothing in it) is
 * left out, so evidence never shows a field that says nothing.
 */

/**
 * @param dn a distinguished name as node prints it, e.g. "CN=localhost\nO=secchat lab"
 * @returns "CN=localhost, O=secchat lab"; "(empty)" when no attribute has a value
 */
export function distinguishedNameText(dn: string): string {
  const present = dn
    .split('\n')
    .map((a) => a.trim())
    .filter((a) => {
      const eq = a.indexOf('=');
      return eq > 0 && a.slice(eq + 1).trim() !== '';
    });
  return present.length ? present.join(', ') : '(empty)';
}
