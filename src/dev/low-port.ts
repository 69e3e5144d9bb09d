// Free loopback ports for the test beds' servers, chosen before the servers bind them.
import { createServer } from 'node:net';

/** Ports lowPort has handed out: probed free, but not bound until a server starts. */
const handedOut = new Set<number>();

/**
 * A free loopback port below 32768, never one handed out before in this process. Below the
 * kernel's ephemeral range (what freePort gets), so no outgoing connection on the machine can take
 * it between the probe and the bind; and a bed's ports are all chosen before any of its servers
 * binds, where a port chosen twice made the second server fail to start. (The Temporal cluster
 * needs it for another reason too: cluster_membership keeps ports as SMALLINT.)
 */
export async function lowPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    const free = await new Promise<boolean>((done) => {
      const probe = createServer().once('error', () => done(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below 32768');
}
