// The daemon's HTTP port as a browser meets it: what a page load costs the relay.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { useSuite } from '../lib/harness.mjs';

/** GET with the given Accept-Encoding; resolves { status, encoding, bytes, ms }. */
function get(base, path, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const req = http.get(base + path, { headers: { 'Accept-Encoding': acceptEncoding } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => resolve({
        status: res.statusCode, encoding: res.headers['content-encoding'] ?? 'identity', bytes, ms: Date.now() - t0,
      }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

describe('http', () => {
  const ctx = useSuite('http');

  test('a browser that accepts brotli gets gzip: no client can make the relay spend seconds per page', ctx.it(async () => {
    const relay = await ctx.start('http');
    // What Chromium sends on every request.
    const browser = await get(relay.base, '/status', 'gzip, deflate, br, zstd');
    assert.equal(browser.status, 200);
    assert.equal(browser.encoding, 'gzip', 'brotli is never chosen');
    const brOnly = await get(relay.base, '/status', 'br');
    assert.equal(brOnly.status, 200);
    assert.equal(brOnly.encoding, 'identity', 'a client that offers only brotli gets the plain page');
    const plain = await get(relay.base, '/status', 'identity');
    assert.equal(plain.encoding, 'identity');
    assert.ok(browser.bytes < plain.bytes, `gzip is smaller (${browser.bytes} < ${plain.bytes} bytes)`);
  }));
});
