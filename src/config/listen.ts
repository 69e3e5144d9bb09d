// `host:port` (GATEHOUSE_LISTEN, server.listen) → Fastify's listen options. IPv6 hosts go in brackets.
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^\[?([^\]]*)\]?:([0-9]{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !Number.isInteger(port) || port > 65_535) {
    throw new RangeError(`listen address must be host:port, got ${JSON.stringify(listen)}`);
  }
  return { host: match[1], port };
}
