// A server that records every request it gets and answers `200 []`: where a redirected provider
// API points, so a test can see whether anything (a token above all) was sent there.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Collector {
  url: string;
  /** Each request: method, path and its authorization headers, if any. */
  seen: Array<{ method: string; path: string; authorization?: string; privateToken?: string }>;
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const seen: Collector['seen'] = [];
  const server = createServer((request, response) => {
    const { authorization } = request.headers;
    const privateToken = request.headers['private-token'];
    seen.push({
      method: request.method ?? '',
      path: request.url ?? '',
      ...(authorization === undefined ? {} : { authorization }),
      ...(typeof privateToken === 'string' ? { privateToken } : {}),
    });
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
