// The development identity issuer on its own (docker-compose's dev-issuer service). Mints tokens
// for any subject through POST /token: never expose it beyond a development network.
import { startDevIssuer } from './dev-issuer.js';
import { deviceGrant } from './dev-issuer-device.js';

const port = Number(process.env.DEV_ISSUER_PORT ?? 9000);
const issuer = await startDevIssuer({
  port,
  host: process.env.DEV_ISSUER_HOST ?? '127.0.0.1',
  ...(process.env.DEV_ISSUER_URL === undefined ? {} : { publicUrl: process.env.DEV_ISSUER_URL }),
  allowTokenEndpoint: true,
  extensions: [deviceGrant()],
});
console.log(`dev issuer ${issuer.issuer} (JWKS ${issuer.jwksUrl}); POST /token {"sub": "..."} mints a token`);
const stop = () => void issuer.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
