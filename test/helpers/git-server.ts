// A local Git host for CI tests: a real repository served over HTTP on loopback with git's "dumb"
// HTTP protocol (static files of a bare clone after `git update-server-info`). Every path
// `/<provider>/<owner>/<repo>.git/...` serves the same repository, so the tests can point each
// provider's configured web URL here and clone whatever repository name a job names.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { ConfigOverlay } from '../../src/config/overlay.js';
import { providerNames } from '../../src/providers/registry.js';

export interface GitServer {
  /** `http://127.0.0.1:<port>`; a provider's web URL is `${url}/<provider>`. */
  url: string;
  sha: string;
  /** Paths requested, to check that a clone really went over the network. */
  requests: string[];
  close(): Promise<void>;
}

export async function startGitServer(files: Record<string, string>): Promise<GitServer> {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-repo-'));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8' }).trim();
  git(work, 'init', '--quiet', '--initial-branch=main');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(work, name), content, { mode: 0o755 });
  git(work, 'add', '.');
  git(work, '-c', 'user.name=Test', '-c', 'user.email=test@example.test', 'commit', '--quiet', '-m', 'test commit');
  const sha = git(work, 'rev-parse', 'HEAD');
  const bare = `${work}.git`;
  execFileSync('git', ['clone', '--quiet', '--bare', work, bare]);
  git(bare, 'update-server-info');

  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const match = /^\/[a-z]+\/(?:[A-Za-z0-9_.-]+\/)+[A-Za-z0-9_.-]+\.git\/(.+)$/.exec(path);
    const file = match?.[1] === undefined ? undefined : normalize(join(bare, match[1]));
    if (file === undefined || !file.startsWith(`${bare}/`) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sha,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Every provider's configured server at the test git server, over plain HTTP on loopback (a config overlay). */
export function gitServerOverlay(git: Pick<GitServer, 'url'>) {
  return {
    ci: {
      webUrls: Object.fromEntries(providerNames.map((provider) => [provider, `${git.url}/${provider}`])),
      cloneProtocols: ['http' as const],
    },
  } satisfies ConfigOverlay;
}
