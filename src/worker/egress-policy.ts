// Where a network-enabled CI step may connect (ci.sandbox.egress): a host:port on the allow-list,
// and, for a name, only when every address it resolves to lies outside the refused ranges. The
// proxy connects to the address checked here, never to the name again, so a name that resolves
// somewhere else a moment later (DNS rebinding) cannot steer it into the deployment.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { canonicalAddress, parseAllowEntry, parseCidr } from '../config/egress.js';

export interface EgressSettings {
  allow: string[];
  deny: string[];
}

export type EgressDecision =
  | { ok: true; address: string; family: 4 | 6 }
  | { ok: false; reason: 'not allowed' | 'refused address' | 'unresolved' };

export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

/** Never reachable from a step, whatever the settings say: the machine itself and the metadata services. */
const alwaysRefused: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['fd00:ec2::254', 128, 'ipv6'],
];

/** `*.example.com` matches exactly one more label (`a.example.com`, not `a.b.example.com`). */
function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  const label = host.slice(0, -suffix.length);
  return host.endsWith(suffix) && /^[a-z0-9-]+$/.test(label);
}

export interface EgressPolicy {
  check(host: string, port: number): Promise<EgressDecision>;
}

export function createEgressPolicy(settings: EgressSettings, resolve: Resolver = defaultResolver): EgressPolicy {
  const entries = settings.allow.map((entry) => {
    const parsed = parseAllowEntry(entry);
    if (parsed === undefined) throw new Error(`not an egress entry: ${entry}`);
    return parsed;
  });
  const refused = new BlockList();
  for (const [address, prefix, type] of alwaysRefused) refused.addSubnet(address, prefix, type);
  for (const cidr of settings.deny) {
    const parsed = parseCidr(cidr);
    if (parsed === undefined) throw new Error(`not a CIDR: ${cidr}`);
    refused.addSubnet(...parsed);
  }
  const isRefused = (address: string) => {
    const canonical = canonicalAddress(address);
    return refused.check(canonical, isIP(canonical) === 4 ? 'ipv4' : 'ipv6');
  };
  const allowed = (host: string, port: number) =>
    entries.some((entry) => entry.port === port && hostMatches(entry.host, host));
  return {
    async check(rawHost, port) {
      const bare = rawHost
        .replace(/^\[(.*)\]$/, '$1')
        .toLowerCase()
        .replace(/\.$/, '');
      const host = isIP(bare) === 0 ? bare : canonicalAddress(bare);
      if (!allowed(host, port)) return { ok: false, reason: 'not allowed' };
      // An address the operator wrote down is meant as written.
      const family = isIP(host);
      if (family !== 0) return { ok: true, address: host, family: family as 4 | 6 };
      let addresses: Array<{ address: string; family: number }>;
      try {
        addresses = await resolve(host);
      } catch {
        return { ok: false, reason: 'unresolved' };
      }
      if (addresses.length === 0) return { ok: false, reason: 'unresolved' };
      if (addresses.some((a) => isRefused(a.address))) return { ok: false, reason: 'refused address' };
      const first = addresses[0]!;
      return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
    },
  };
}

const defaultResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });
