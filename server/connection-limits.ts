/**
 * Connections per client address. Counted at TCP accept — before any TLS work — so a host that
 * opens sockets and never handshakes (slowloris) holds at most `maxConnectionsPerIp` of them,
 * each for at most `handshakeTimeoutMs`.
 *
 * Addresses are grouped the way one machine or one subscriber owns them: an IPv4 address
 * (IPv4-mapped IPv6 "::ffff:a.b.c.d" counts as IPv4), and for IPv6 the /64 prefix, because a
 * single host is routinely given a whole /64 (RFC 6177 §2, RFC 7934) and could otherwise
 * rotate through 2^64 addresses.
 */
import net from 'node:net';

/**
 * The TCP socket beneath a TLS one (node keeps it as `_parent`), or the socket itself. Read the
 * peer's address there: admission at TCP accept already read it and node caches it on that
 * socket (also past its close), whereas asking the TLS socket costs another getpeername system
 * call per connection.
 */
export function tcpSocketOf(s: net.Socket): net.Socket {
  return (s as net.Socket & { _parent?: net.Socket })._parent ?? s;
}

/**
 * "address:port" of a socket, for logs and as a connection's name (read as {@link tcpSocketOf} says).
 * @returns "unknown" when the socket was destroyed before its address was ever read
 */
export function peerOf(s: net.Socket): string {
  const tcp = tcpSocketOf(s);
  const address = tcp.remoteAddress ?? s.remoteAddress;
  return address === undefined ? 'unknown' : `${address}:${tcp.remotePort ?? s.remotePort}`;
}

/**
 * The key one client address is counted under.
 * @param remoteAddress `socket.remoteAddress` (may be undefined once a socket is destroyed)
 * @returns "a.b.c.d" for IPv4, "xxxx:xxxx:xxxx:xxxx::/64" for IPv6, "unknown" otherwise
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (net.isIPv4(remoteAddress)) return remoteAddress;
  if (!net.isIPv6(remoteAddress)) return 'unknown';
  return `${expandIpv6(remoteAddress).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as 4-digit lower-case hex (zone id dropped). */
function expandIpv6(addr: string): string[] {
  const [head, tail] = addr.split('%')[0]!.toLowerCase().split('::') as [string, string | undefined];
  const parts = (s: string) => (s ? s.split(':') : []);
  let groups = parts(head);
  if (tail !== undefined) {
    const right = parts(tail);
    groups = [...groups, ...Array(8 - groups.length - right.length).fill('0'), ...right];
  }
  return groups.map((g) => g.padStart(4, '0'));
}

/**
 * Open connections per address key, with a cap.
 * @throws RangeError at construction unless `maxPerAddress` is an integer >= 1
 */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();
  readonly maxPerAddress: number;

  constructor(maxPerAddress: number) {
    if (!Number.isInteger(maxPerAddress) || maxPerAddress < 1) throw new RangeError(`ConnectionCounter: maxPerAddress must be an integer >= 1 (got ${maxPerAddress})`);
    this.maxPerAddress = maxPerAddress;
  }

  /** Counts one more connection from `key`; false (and nothing counted) when it is at the cap. */
  tryAdd(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.maxPerAddress) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  /** Forgets one connection from `key` (call once per successful {@link tryAdd}). */
  remove(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  /** Open connections counted for `key`. */
  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
