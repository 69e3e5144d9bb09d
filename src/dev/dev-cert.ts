// `node --import tsx src/dev/dev-cert.ts DIR`: a self-signed edge certificate in DIR/edge.pem, for
// the dev stack and docker-compose only (production brings its own certificate).
import { makeDevCertificate } from './edge-process.js';

const dir = process.argv[2] ?? process.env.EDGE_TLS_DIR;
if (dir === undefined) {
  console.error('usage: dev-cert DIR');
  process.exit(64);
}
console.log(makeDevCertificate(dir));
