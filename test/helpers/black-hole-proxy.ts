// A TCP proxy that can make a server hang rather than fail: in `forward` mode it relays bytes both
// ways; in `black-hole` mode it keeps accepting connections and reading what they send, and never
// forwards or answers anything, on new connections and on the ones already open. Switching back
// to `forward` closes the black-holed connections (their streams lost bytes both ways, so nothing
// could be resumed on them) and relays new ones again.
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface BlackHoleProxy {
  /** host:port to connect to instead of the target. */
  readonly address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  blackHole(): void;
  forward(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  blackHoled: boolean;
}

export async function startBlackHoleProxy(target: string): Promise<BlackHoleProxy> {
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator);
  const port = Number(target.slice(separator + 1));
  let mode: 'forward' | 'black-hole' = 'forward';
  let accepted = 0;
  const pairs = new Set<Pair>();

  const server: Server = createServer((client) => {
    accepted += 1;
    const pair: Pair = { client, upstream: undefined, blackHoled: mode === 'black-hole' };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', end);
    client.on('close', end);
    // Read everything, always: a black hole takes bytes in and says nothing.
    client.on('data', (chunk) => {
      if (!pair.blackHoled) pair.upstream?.write(chunk);
    });
    if (pair.blackHoled) return;
    client.pause();
    const upstream = connect(port, host, () => client.resume());
    pair.upstream = upstream;
    upstream.on('data', (chunk) => {
      if (!pair.blackHoled) client.write(chunk);
    });
    upstream.on('error', end);
    upstream.on('close', () => {
      if (!pair.blackHoled) end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: ownPort } = server.address() as { port: number };

  return {
    address: `127.0.0.1:${ownPort}`,
    get accepted() {
      return accepted;
    },
    blackHole() {
      mode = 'black-hole';
      for (const pair of pairs) pair.blackHoled = true;
    },
    forward() {
      mode = 'forward';
      for (const pair of [...pairs]) {
        if (!pair.blackHoled) continue;
        pairs.delete(pair);
        pair.client.destroy();
        pair.upstream?.destroy();
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      server.close();
      await once(server, 'close');
    },
  };
}
