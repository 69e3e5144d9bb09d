// The files HAProxy is started with: the project's haproxy.cfg, then the generated keys.cfg that
// preloads every JWKS key (src/edge/render-keys.ts). `haproxy -c` checks them together.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const edgeConfigFile = fileURLToPath(new URL('../../haproxy/haproxy.cfg', import.meta.url));

export function edgeConfigFiles(env: { EDGE_KEYS_DIR: string }): string[] {
  return [edgeConfigFile, join(env.EDGE_KEYS_DIR, 'keys.cfg')];
}
