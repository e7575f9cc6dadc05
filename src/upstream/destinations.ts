import { globToRegExp } from '../util/glob.ts';

/**
 * Where an upstream client may be sent besides its own host: by a redirect (a CDN) or by an
 * absolute URL the upstream published (a Helm index's chart URLs). Without a list, any host but an
 * internal address (loopback, private, link-local, unique-local, `localhost`, cloud metadata) when
 * the upstream itself is public: an anonymous client must never get an internal service's answer
 * through a public upstream's redirect or index (issue 24, 17). An upstream that is itself internal
 * (a mirror inside the network) may lead to other internal hosts. With a list
 * (`upstream.allowHosts`: host or host:port patterns, `*` within a label), only those.
 * Names that resolve to internal addresses are not caught here (no DNS lookup in the core).
 */
export class Destinations {
  private readonly allow: RegExp[] | null;
  private readonly ownInternal: boolean;

  constructor(
    private readonly own: URL,
    allowHosts: string[] | undefined,
  ) {
    this.allow = allowHosts && allowHosts.length > 0 ? allowHosts.map((p) => globToRegExp(p.toLowerCase())) : null;
    this.ownInternal = isInternal(own.hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  }

  /** Null when `url` may be fetched, else why not. */
  refuse(url: URL): string | null {
    if (url.host === this.own.host) return null;
    const host = url.host.toLowerCase();
    const name = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    if (this.allow) return this.allow.some((r) => r.test(host) || r.test(name)) ? null : `${url.host} is not in upstream.allowHosts`;
    return !this.ownInternal && isInternal(name) ? `${url.host} is an internal address (list it in upstream.allowHosts to allow it)` : null;
  }
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Loopback, private, link-local, CGNAT, unspecified and unique-local addresses, and names that mean this machine. */
export function isInternal(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost') || name === 'metadata.google.internal') return true;
  const m = V4.exec(name);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (!name.includes(':')) return false;
  const v6 = name.toLowerCase();
  if (v6 === '::1' || v6 === '::') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isInternal(mapped[1] ?? '');
  // WHATWG URLs write IPv4-mapped addresses in hex: [::ffff:7f00:1] is 127.0.0.1.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (hex) {
    const hi = parseInt(hex[1] ?? '0', 16);
    const lo = parseInt(hex[2] ?? '0', 16);
    return isInternal(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return /^fe[89ab][0-9a-f]:/.test(v6) || /^f[cd][0-9a-f]{2}:/.test(v6);
}
