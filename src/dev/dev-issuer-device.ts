// The development issuer's device authorization grant (RFC 8628), for `gatehouse login`: an
// extension of dev-issuer.ts. Development only: whoever approves a code names any subject.
//
//   POST /device_authorization  (client_id, scope)  -> device_code, user_code, verification_uri
//   GET  /device?user_code=...  a page to approve the code as a subject (and groups)
//   POST /device                (user_code, sub, groups, deny) -> approves or denies
//   POST /token  grant_type=urn:ietf:params:oauth:grant-type:device_code -> pending, denied,
//                expired, or the tokens (once); grant_type=refresh_token -> new tokens, the
//                refresh token rotated. Other grants, and refresh tokens it did not issue, are
//                left to the issuer (which replays the body to it).
//   POST /revoke (token)        revokes a refresh token
import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DevIssuer, DevIssuerExtension } from './dev-issuer.js';

export interface DeviceGrantOptions {
  /** Seconds between polls the client is told to keep (RFC 8628 says 5 by default). */
  interval?: number;
  /** Seconds a device code lives. */
  codeLifetime?: number;
  /** Seconds the access tokens it mints live (short, to exercise refreshing). */
  accessTokenLifetime?: number;
}

export interface DeviceGrant extends DevIssuerExtension {
  /** Approves a code as this subject, as the page does; false when there is no such pending code. */
  approve(userCode: string, claims: { sub: string; groups?: string[] }): boolean;
  deny(userCode: string): boolean;
  /** How many refresh grants succeeded (tests check a refresh happened). */
  readonly refreshes: number;
}

interface Pending {
  deviceCode: string;
  userCode: string;
  clientId: string;
  expiresAt: number;
  state: 'pending' | 'denied' | 'approved' | 'used';
  claims?: { sub: string; groups?: string[] };
}

const deviceGrantType = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §6.1: no vowels or look-alikes, so codes spell nothing and read back without mistakes. */
const userCodeAlphabet = 'BCDFGHJKLMNPQRSTVWXZ';

function userCode(): string {
  const letters = Array.from({ length: 8 }, () => userCodeAlphabet[randomInt(userCodeAlphabet.length)]);
  return `${letters.slice(0, 4).join('')}-${letters.slice(4).join('')}`;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(response: ServerResponse, status: number, body: unknown): true {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
  return true;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function deviceGrant(options: DeviceGrantOptions = {}): DeviceGrant {
  const interval = options.interval ?? 5;
  const codeLifetime = options.codeLifetime ?? 600;
  const accessTokenLifetime = options.accessTokenLifetime ?? 3600;
  const byDeviceCode = new Map<string, Pending>();
  const byUserCode = new Map<string, Pending>();
  const refreshTokens = new Map<string, { sub: string; groups?: string[] }>();
  let refreshes = 0;

  const now = () => Math.floor(Date.now() / 1000);
  const live = (code: string): Pending | undefined => {
    const pending = byUserCode.get(code.toUpperCase());
    return pending !== undefined && pending.state === 'pending' && pending.expiresAt > now() ? pending : undefined;
  };
  const tokens = async (issuer: DevIssuer, claims: { sub: string; groups?: string[] }) => {
    const refreshToken = randomBytes(32).toString('base64url');
    refreshTokens.set(refreshToken, claims);
    return {
      access_token: await issuer.mint({ ...claims }, { expiresIn: accessTokenLifetime }),
      token_type: 'Bearer',
      expires_in: accessTokenLifetime,
      refresh_token: refreshToken,
    };
  };

  const grant: DeviceGrant = {
    get refreshes() {
      return refreshes;
    },
    metadata: (issuerUrl) => ({
      device_authorization_endpoint: `${issuerUrl}/device_authorization`,
      token_endpoint: `${issuerUrl}/token`,
      revocation_endpoint: `${issuerUrl}/revoke`,
      grant_types_supported: [deviceGrantType, 'refresh_token'],
    }),
    approve(code, claims) {
      const pending = live(code);
      if (pending === undefined) return false;
      pending.state = 'approved';
      pending.claims = claims;
      return true;
    },
    deny(code) {
      const pending = live(code);
      if (pending === undefined) return false;
      pending.state = 'denied';
      return true;
    },
    async handle(request, response, issuer) {
      const url = new URL(request.url ?? '/', issuer.issuer);
      const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
      if (request.method === 'POST' && url.pathname === '/device_authorization' && form) {
        const body = await readForm(request);
        const clientId = body.get('client_id');
        if (clientId === null || clientId === '') return send(response, 401, { error: 'invalid_client' });
        const pending: Pending = {
          deviceCode: randomBytes(32).toString('base64url'),
          userCode: userCode(),
          clientId,
          expiresAt: now() + codeLifetime,
          state: 'pending',
        };
        byDeviceCode.set(pending.deviceCode, pending);
        byUserCode.set(pending.userCode, pending);
        return send(response, 200, {
          device_code: pending.deviceCode,
          user_code: pending.userCode,
          verification_uri: `${issuer.issuer}/device`,
          verification_uri_complete: `${issuer.issuer}/device?user_code=${pending.userCode}`,
          expires_in: codeLifetime,
          interval,
        });
      }
      if (request.method === 'GET' && url.pathname === '/device') {
        const code = escapeHtml(url.searchParams.get('user_code') ?? '');
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gatehouse dev sign-in</title></head>
<body><h1>Approve a device (development issuer)</h1>
<form method="post" action="/device">
<p><label>Code <input name="user_code" value="${code}" required></label></p>
<p><label>Subject <input name="sub" value="dev-user" required></label></p>
<p><label>Groups (comma-separated) <input name="groups" value=""></label></p>
<p><button>Approve</button> <button name="deny" value="1">Deny</button></p>
</form></body></html>`);
        return true;
      }
      if (request.method === 'POST' && url.pathname === '/device' && form) {
        const body = await readForm(request);
        const code = body.get('user_code') ?? '';
        const sub = body.get('sub') ?? '';
        const groups = (body.get('groups') ?? '')
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean);
        const done = body.get('deny') === null ? sub !== '' && grant.approve(code, { sub, groups }) : grant.deny(code);
        response.writeHead(done ? 200 : 400, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(done ? 'Done: you may close this page and return to your terminal.\n' : 'No such pending code.\n');
        return true;
      }
      if (request.method === 'POST' && url.pathname === '/revoke' && form) {
        // Only its own refresh tokens; any other token is left to the issuer's sign-in.
        if (!refreshTokens.delete((await readForm(request)).get('token') ?? '')) return false;
        response.writeHead(200).end();
        return true;
      }
      if (request.method !== 'POST' || url.pathname !== '/token' || !form) return false;
      const body = await readForm(request);
      const grantType = body.get('grant_type');
      if (grantType === deviceGrantType) {
        const pending = byDeviceCode.get(body.get('device_code') ?? '');
        if (pending === undefined || pending.clientId !== body.get('client_id'))
          return send(response, 400, { error: 'invalid_grant' });
        if (pending.expiresAt <= now()) return send(response, 400, { error: 'expired_token' });
        if (pending.state === 'pending') return send(response, 400, { error: 'authorization_pending' });
        if (pending.state === 'denied') return send(response, 400, { error: 'access_denied' });
        if (pending.state === 'used') return send(response, 400, { error: 'invalid_grant' });
        pending.state = 'used';
        return send(response, 200, await tokens(issuer, pending.claims!));
      }
      if (grantType === 'refresh_token') {
        const presented = body.get('refresh_token') ?? '';
        const claims = refreshTokens.get(presented);
        // Not one it issued: the issuer's sign-in may know it (and refuses it otherwise).
        if (claims === undefined) return false;
        refreshTokens.delete(presented);
        refreshes += 1;
        return send(response, 200, await tokens(issuer, claims));
      }
      return false;
    },
  };
  return grant;
}
