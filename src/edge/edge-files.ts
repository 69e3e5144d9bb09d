// The files HAProxy is started with: the project's haproxy.cfg, then the generated keys.cfg that
// preloads every JWKS key (src/edge/render-keys.ts). `haproxy -c` checks them together.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const edgeConfigFile = fileURLToPath(new URL('../../haproxy/haproxy.cfg', import.meta.url));
/** haproxy.cfg's folder, which holds the Lua it loads (EDGE_CONFIG_DIR). */
export const edgeConfigDir = dirname(edgeConfigFile);

export function edgeConfigFiles(env: { EDGE_KEYS_DIR: string }): string[] {
  return [edgeConfigFile, join(env.EDGE_KEYS_DIR, 'keys.cfg')];
}
