// The console's static files: its script and style from this folder, Pico's stylesheet from npm.
// Read once at start-up and served from memory under a name with their digest, so a page always
// loads the files of the bridge that rendered it and browsers may keep them for good. No CDN.
// Each is compressed once, at start-up, with brotli and gzip, and sent as the browser accepts.
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  /** The path pages link to: /ui/assets/<name>.<digest>.<ext> */
  url: string;
  type: string;
  body: Buffer;
  /** The body compressed, by content coding. */
  encoded: { br: Buffer; gzip: Buffer };
}

export interface ConsoleAssets {
  script: Asset;
  style: Asset;
  pico: Asset;
  byUrl: Map<string, Asset>;
}

/** This folder's assets/, whether the bridge runs from its sources or compiled under dist/. */
function assetsDir(): string {
  const candidates = ['./assets/', '../../../../src/bridge/console/assets/'].map((path) =>
    fileURLToPath(new URL(path, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(`${dir}console.js`));
  if (found === undefined) throw new Error(`the console's assets are not in ${candidates.join(' or ')}`);
  return found;
}

function asset(name: string, file: string, type: string): Asset {
  const body = readFileSync(file);
  const digest = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  const dot = name.lastIndexOf('.');
  const encoded = {
    br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }),
    gzip: gzipSync(body, { level: 9 }),
  };
  return { url: `/ui/assets/${name.slice(0, dot)}.${digest}${name.slice(dot)}`, type, body, encoded };
}

export function loadAssets(): ConsoleAssets {
  const dir = assetsDir();
  const pico = createRequire(import.meta.url).resolve('@picocss/pico/css/pico.min.css');
  const assets = {
    script: asset('console.js', `${dir}console.js`, 'text/javascript; charset=utf-8'),
    style: asset('console.css', `${dir}console.css`, 'text/css; charset=utf-8'),
    pico: asset('pico.css', pico, 'text/css; charset=utf-8'),
  };
  return { ...assets, byUrl: new Map(Object.values(assets).map((a) => [a.url, a])) };
}
