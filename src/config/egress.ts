// ci.sandbox.egress: the shapes of its allow-list entries and refused ranges, read by check-config
// (a bad entry is a start-up error naming it) and by the worker's egress policy
// (src/worker/egress-policy.ts), and the rule that network steps need an authenticated Temporal.
import { isIP } from 'node:net';
import type { GatehouseConfigFile } from './schema.js';

export interface AllowEntry {
  /** A lower-case name, `*.suffix` (one label), or an IP address in its canonical form. */
  host: string;
  port: number;
}

/** `host:port`, `*.host:port`, `[v6]:port` or `v4:port`; undefined when it is none of these. */
export function parseAllowEntry(entry: string): AllowEntry | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(entry);
  if (match === null) return undefined;
  const port = Number(match[3]);
  const host = (match[1] ?? match[2] ?? '').toLowerCase().replace(/\.$/, '');
  if (port < 1 || port > 65_535) return undefined;
  if (match[1] !== undefined && isIP(host) !== 6) return undefined;
  return { host: isIP(host) === 0 ? host : canonicalAddress(host), port };
}

/** A CIDR as [address, prefix, type]; undefined when it is not one. */
export function parseCidr(cidr: string): [string, number, 'ipv4' | 'ipv6'] | undefined {
  const [address = '', bits = ''] = cidr.split('/');
  const family = isIP(address);
  const prefix = Number(bits);
  if (family === 0 || !/^[0-9]{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return undefined;
  return [address, prefix, family === 4 ? 'ipv4' : 'ipv6'];
}

/** IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address it carries; ranges are checked on that. */
export function canonicalAddress(address: string): string {
  const mapped = /^::ffff:([0-9.]+)$/i.exec(address);
  return mapped?.[1] !== undefined && isIP(mapped[1]) === 4 ? mapped[1] : address.toLowerCase();
}

/** What is wrong with ci.sandbox.egress, and with network steps on an unauthenticated Temporal. */
export function checkEgress(config: GatehouseConfigFile): string[] {
  const { egress, allowNetworkWithoutTemporalAuth } = config.ci.sandbox;
  const problems: string[] = [];
  egress.allow.forEach((entry, index) => {
    if (parseAllowEntry(entry) === undefined)
      problems.push(`/ci/sandbox/egress/allow/${index}: "${entry}" is not host:port, *.host:port or [ipv6]:port`);
  });
  egress.deny.forEach((cidr, index) => {
    if (parseCidr(cidr) === undefined) problems.push(`/ci/sandbox/egress/deny/${index}: "${cidr}" is not a CIDR`);
  });
  const networked = config.ci.pipelines.flatMap((pipeline, index) => (pipeline.network ? [index] : []));
  const { tls, apiKey } = config.temporal;
  const authenticated = apiKey !== undefined || tls?.clientCertFile !== undefined;
  if (networked.length > 0 && !authenticated && !allowNetworkWithoutTemporalAuth)
    problems.push(
      `/ci/pipelines/${networked[0]}/network: steps with network run next to a Temporal that accepts anyone (no mTLS client certificate, no API key); authenticate the worker to Temporal, or set ci.sandbox.allowNetworkWithoutTemporalAuth: true`,
    );
  return problems;
}
