// The egress proxy of one CI attempt whose pipeline has network: an HTTP proxy on a unix socket
// that only the attempt's own uid may connect to, bound into its sandbox (activities/sandbox.ts),
// where socat exposes it on loopback as HTTP(S)_PROXY. CONNECT tunnels (https, git over https)
// and absolute-form http:// requests go to what the egress policy allows, at the address the
// policy checked; anything else is answered 403 (not allowed) or 502 (unreachable). Closing it
// ends every tunnel of the attempt.
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { EgressDecision, EgressPolicy } from './egress-policy.js';

export interface EgressProxy {
  socket: string;
  close(): Promise<void>;
}

export interface EgressProxyOptions {
  /** Where the socket's private directory is made (the CI scratch directory). */
  dir: string;
  policy: EgressPolicy;
  /** The attempt's ids: the socket becomes theirs (mode 0600), so no other job can connect. */
  owner: { uid?: number; gid?: number };
  /** Told about every refused destination (never about allowed ones: steps make many). */
  onRefused?(destination: string, reason: string): void;
}

const connectTimeoutMs = 10_000;
/** Request headers that belong to the hop to the proxy, not to the origin. */
const hopHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const dir = mkdtempSync(join(options.dir, 'egress-'));
  const socket = join(dir, 'proxy.sock');
  const open = new Set<Socket | Duplex>();
  const track = (stream: Socket | Duplex) => {
    open.add(stream);
    stream.once('close', () => open.delete(stream));
  };
  const decide = async (host: string, port: number) => {
    const decision = await options.policy.check(host, port);
    if (!decision.ok) options.onRefused?.(`${host}:${port}`, decision.reason);
    return decision;
  };

  const server = createServer((req, res) => void forward(req, res, decide, track));
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    void tunnel(req, client, head, decide, track);
  });
  server.on('connection', track);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  // The directory stays the worker's (others may pass through it, not list it), so the worker can
  // remove it without any capability over the attempt's files.
  const { uid, gid } = options.owner;
  if (uid !== undefined && gid !== undefined) chownSync(socket, uid, gid);
  chmodSync(socket, 0o600);
  chmodSync(dir, 0o711);
  return {
    socket,
    async close() {
      for (const stream of open) stream.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Decide = (host: string, port: number) => Promise<EgressDecision>;

/** `CONNECT host:port`: a byte tunnel to the checked address once the policy allows it. */
async function tunnel(req: IncomingMessage, client: Duplex, head: Buffer, decide: Decide, track: (s: Socket) => void) {
  client.on('error', () => client.destroy());
  const target = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(req.url ?? '');
  if (target === null) return refuse(client, 400, 'CONNECT needs host:port');
  const decision = await decide(target[1]!, Number(target[2]));
  if (!decision.ok) return refuse(client, 403, `egress ${decision.reason}: ${req.url}`);
  const upstream = connect({ host: decision.address, port: Number(target[2]), family: decision.family });
  track(upstream);
  upstream.setTimeout(connectTimeoutMs, () => upstream.destroy(new Error('connect timeout')));
  upstream.once('error', () => (upstream.connecting ? refuse(client, 502, 'unreachable') : client.destroy()));
  upstream.once('connect', () => {
    upstream.setTimeout(0);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
}

/** `GET http://host:port/path`: the request passed on to the checked address, the answer passed back. */
async function forward(req: IncomingMessage, res: ServerResponse, decide: Decide, track: (s: Socket) => void) {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    return answer(res, 400, 'a proxy request names an absolute http:// URL');
  }
  if (url.protocol !== 'http:') return answer(res, 400, 'only http:// is proxied; use CONNECT for https');
  const port = url.port === '' ? 80 : Number(url.port);
  const decision = await decide(url.hostname, port);
  if (!decision.ok) return answer(res, 403, `egress ${decision.reason}: ${url.host}`);
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([name]) => !hopHeaders.has(name.toLowerCase())),
  );
  const upstream = httpRequest({
    host: decision.address,
    family: decision.family,
    port,
    method: req.method,
    path: `${url.pathname}${url.search}`,
    headers: { ...headers, host: url.host, connection: 'close' },
    setHost: false,
    timeout: connectTimeoutMs,
  });
  upstream.on('socket', track);
  upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
  upstream.on('error', () => (res.headersSent ? res.destroy() : answer(res, 502, 'unreachable')));
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  req.pipe(upstream);
}

function refuse(client: Duplex, status: number, reason: string): void {
  const text = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' }[status] ?? 'Error';
  client.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(reason) + 1}\r\nconnection: close\r\n\r\n${reason}\n`,
  );
}

function answer(res: ServerResponse, status: number, reason: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(`${reason}\n`);
}
