// Browser sign-in on a machine of its own (the dev stack, the bench): a config file with a signIn
// section at the edge's origin and fresh keys, which the bridges read instead of the one given.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { generateSessionKey } from '../bridge/sign-in/session-keys.js';

/**
 * The config file as given, plus a signIn section (unless it has one) with the edge's origin and
 * fresh keys, written to <dataDir>/dev/gatehouse.yaml with the policy paths made absolute, for the
 * bridges (which read no other path of it); the keys go to the bridges in their environment.
 */
export async function devSignIn(
  configFile: string,
  base: string,
  dataDir: string,
): Promise<{ env: Record<string, string> }> {
  const source = resolve(configFile);
  const document = parseDocument(readFileSync(source, 'utf8'));
  if (document.has('signIn')) return { env: { GATEHOUSE_CONFIG: configFile } };
  for (const key of ['policies', 'entities', 'schema']) {
    const path = document.getIn(['policy', key]);
    if (typeof path === 'string') document.setIn(['policy', key], resolve(dirname(source), path));
  }
  if (!document.hasIn(['policy', 'policies'])) {
    document.setIn(['policy', 'policies'], resolve(dirname(source), 'policies/gatehouse.cedar'));
  }
  document.set('signIn', {
    publicUrl: base,
    clientId: 'gatehouse-dev',
    sessionKeys: { env: 'GATEHOUSE_DEV_SESSION_KEYS' },
    cookieKeys: [{ env: 'GATEHOUSE_DEV_COOKIE_KEY' }],
  });
  const file = resolve(dataDir, 'dev', 'gatehouse.yaml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, document.toString());
  return {
    env: {
      GATEHOUSE_CONFIG: file,
      GATEHOUSE_DEV_SESSION_KEYS: JSON.stringify({ keys: [await generateSessionKey(`dev-${Date.now()}`)] }),
      GATEHOUSE_DEV_COOKIE_KEY: randomBytes(32).toString('base64url'),
    },
  };
}
