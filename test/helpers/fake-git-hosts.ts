// A local stand-in for the four providers' commit-status APIs, keeping their paths, auth headers,
// bodies and state vocabularies, and refusing anything else the way they do (401, 404, 422).
// failNext(n) makes the next n calls answer 503, to test retries.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigOverlay } from '../../src/config/overlay.js';

export interface RecordedStatus {
  provider: 'github' | 'gitlab' | 'gitea' | 'bitbucket';
  repository: string;
  sha: string;
  state: string;
  url: string;
  context: string;
}

const states = {
  github: ['error', 'failure', 'pending', 'success'],
  gitea: ['pending', 'success', 'error', 'failure', 'warning'],
  gitlab: ['pending', 'running', 'success', 'failed', 'canceled'],
  bitbucket: ['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'],
} as const;

export interface FakeGitHosts {
  url: string;
  statuses: RecordedStatus[];
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startFakeGitHosts(token: string): Promise<FakeGitHosts> {
  const statuses: RecordedStatus[] = [];
  let failures = 0;
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    request.on('end', () => {
      const send = (status: number, body: unknown) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (failures > 0) {
        failures -= 1;
        return send(503, { message: 'Service Unavailable' });
      }
      const url = new URL(request.url ?? '/', 'http://x');
      const body = JSON.parse(raw || '{}') as Record<string, string>;
      let match: RegExpExecArray | null;
      if (
        request.method === 'POST' &&
        (match = /^\/(github|gitea)\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url.pathname))
      ) {
        const provider = match[1] as 'github' | 'gitea';
        const expected = provider === 'github' ? `Bearer ${token}` : `token ${token}`;
        if (request.headers.authorization !== expected) return send(401, { message: 'Bad credentials' });
        if (!(states[provider] as readonly string[]).includes(body.state ?? ''))
          return send(422, { message: 'Validation Failed' });
        statuses.push({
          provider,
          repository: `${decodeURIComponent(match[2]!)}/${decodeURIComponent(match[3]!)}`,
          sha: match[4]!,
          state: body.state!,
          url: body.target_url ?? '',
          context: body.context ?? '',
        });
        return send(201, { id: statuses.length, state: body.state });
      }
      if (
        request.method === 'POST' &&
        (match = /^\/gitlab\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url.pathname))
      ) {
        if (request.headers['private-token'] !== token) return send(401, { message: '401 Unauthorized' });
        if (!(states.gitlab as readonly string[]).includes(body.state ?? ''))
          return send(400, { error: 'state does not have a valid value' });
        statuses.push({
          provider: 'gitlab',
          repository: decodeURIComponent(match[1]!),
          sha: match[2]!,
          state: body.state!,
          url: body.target_url ?? '',
          context: body.name ?? '',
        });
        return send(201, { id: statuses.length, status: body.state });
      }
      if (
        request.method === 'POST' &&
        (match = /^\/bitbucket\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})\/statuses\/build$/.exec(
          url.pathname,
        ))
      ) {
        if (request.headers.authorization !== `Bearer ${token}`)
          return send(401, { type: 'error', error: { message: 'Unauthorized' } });
        if (!(states.bitbucket as readonly string[]).includes(body.state ?? '') || body.key === undefined)
          return send(400, { type: 'error', error: { message: 'bad request' } });
        statuses.push({
          provider: 'bitbucket',
          repository: `${match[1]}/${match[2]}`,
          sha: match[3]!,
          state: body.state!,
          url: body.url ?? '',
          context: body.key,
        });
        return send(201, { type: 'build', state: body.state });
      }
      return send(404, { message: 'Not Found' });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    statuses,
    failNext(count) {
      failures = count;
    },
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** `ci.statusApis` pointing these providers (default: all four) at the fake, with the test token's variable. */
export function fakeStatusApis(
  hosts: Pick<FakeGitHosts, 'url'>,
  providers: Array<RecordedStatus['provider']> = ['github', 'gitlab', 'gitea', 'bitbucket'],
): NonNullable<NonNullable<ConfigOverlay['ci']>['statusApis']> {
  return Object.fromEntries(
    providers.map((provider) => [
      provider,
      { apiUrl: `${hosts.url}/${provider}`, token: { env: 'TEST_STATUS_TOKEN' } },
    ]),
  );
}
