// The console's static files: named by their digest, and compressed once with brotli and gzip.
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadAssets } from '../../../../src/bridge/console/assets.js';

describe('loadAssets', () => {
  const assets = loadAssets();

  it('names each file by its digest, and finds it by that name', () => {
    for (const asset of [assets.script, assets.style, assets.pico]) {
      expect(asset.url).toMatch(/^\/ui\/assets\/[a-z]+\.[\w-]{12}\.(js|css)$/);
      expect(assets.byUrl.get(asset.url)).toBe(asset);
    }
  });

  it('keeps each body brotli- and gzip-compressed, smaller, and decoding to the same bytes', () => {
    for (const asset of [assets.script, assets.style, assets.pico]) {
      expect(brotliDecompressSync(asset.encoded.br).equals(asset.body)).toBe(true);
      expect(gunzipSync(asset.encoded.gzip).equals(asset.body)).toBe(true);
      expect(asset.encoded.br.length).toBeLessThan(asset.body.length);
    }
    // Pico's stylesheet is most of a page's weight: about 80 KB, sent as under 15 KB.
    expect(assets.pico.encoded.br.length).toBeLessThan(15_000);
  });
});
