// A development OIDC issuer: serves a discovery document and a JWKS over HTTP on loopback, mints
// tokens, and rotates keys. The dev stack and the tests use it; production points Gatehouse at a
// real IdP. Tokens are minted in-process (tests) or by POST /token (dev stack, loopback only).
// With allowSignIn it is also a browser sign-in IdP (src/dev/dev-issuer-sign-in.ts): an
// authorization endpoint with a sign-in page, the code grant with PKCE, refresh, revocation and
// end-session.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createDevSignIn, type DevAnswer, type DevSignIn } from './dev-issuer-sign-in.js';

export type DevAlgorithm = 'RS256' | 'ES256';

interface DevKey {
  kid: string;
  alg: DevAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface MintOptions {
  /** Sign with this key (default: the newest key of `alg`, or the newest key). */
  kid?: string;
  alg?: DevAlgorithm;
  audience?: string | string[];
  issuer?: string;
  /** Seconds from now; negative for an expired token. Default 3600. */
  expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  notBefore?: number;
  /** Put `kid` in the header (default true). */
  withKid?: boolean;
}

export interface DevIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly audience: string;
  /** How many times the JWKS was fetched: tests check that refetching is bounded. */
  readonly jwksFetches: number;
  mint(claims: JWTPayload, options?: MintOptions): Promise<string>;
  /** Adds a key and makes it the one `mint` uses by default; returns its kid. */
  rotate(alg?: DevAlgorithm): Promise<string>;
  /** Stops publishing a key (its tokens stop verifying once verifiers refetch). */
  retire(kid: string): void;
  /** The browser sign-in (allowSignIn): its counters and its refresh tokens. */
  readonly signIn: DevSignIn | undefined;
  /** Generates a key that is never published, for "unknown key" tests. */
  strangerKey(alg?: DevAlgorithm): Promise<{ kid: string; privateKey: CryptoKey }>;
  close(): Promise<void>;
}

export interface DevIssuerOptions {
  port?: number;
  /** Interface to bind; loopback unless a container needs more. */
  host?: string;
  /** The issuer URL as verifiers reach it (for containers); default http://<host>:<port>. */
  publicUrl?: string;
  audience?: string;
  /** Serve POST /token, which mints a token for any subject: development only. */
  allowTokenEndpoint?: boolean;
  /** Serve the browser sign-in (anyone signs in as anyone): development only. */
  allowSignIn?: boolean;
  /** Lifetime of the ID and access tokens the sign-in issues (default 3600 s). */
  signInTokenSeconds?: number;
  /** More endpoints (dev-issuer-device.ts): asked first, and their metadata joins the discovery document. */
  extensions?: DevIssuerExtension[];
}

export interface DevIssuerExtension {
  metadata(issuerUrl: string): Record<string, unknown>;
  /** Answers the request and says true, or says false to leave it to the issuer. */
  handle(request: IncomingMessage, response: ServerResponse, issuer: DevIssuer): Promise<boolean>;
}

export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const keys: DevKey[] = [];
  let jwksFetches = 0;
  let counter = 0;
  const audience = options.audience ?? 'gatehouse';
  const makeKey = async (alg: DevAlgorithm): Promise<DevKey> => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    counter += 1;
    const kid = `dev-${alg.toLowerCase()}-${Date.now().toString(36)}-${counter}`;
    return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  };

  let issuerUrl = '';
  const server: Server = createServer(async (incoming, response) => {
    // A POST's body is read once and replayed to each reader, so an extension that reads a
    // request and finds it is not its own (another grant, another token) leaves it whole.
    let request = incoming;
    try {
      const body = incoming.method === 'POST' ? Buffer.from(await readBody(incoming)) : undefined;
      const replay = (): IncomingMessage =>
        body === undefined
          ? incoming
          : (Object.assign(Readable.from([body]), {
              method: incoming.method,
              url: incoming.url,
              headers: incoming.headers,
              socket: incoming.socket,
            }) as unknown as IncomingMessage);
      for (const extension of options.extensions ?? []) if (await extension.handle(replay(), response, issuer)) return;
      request = replay();
    } catch {
      response.writeHead(500).end();
      return;
    }
    void handle(request).then(
      ({ status, headers, body }) => {
        response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
      },
      () => {
        response.writeHead(500).end();
      },
    );
  });

  const signIn =
    options.allowSignIn === true
      ? createDevSignIn({
          issuerUrl: () => issuerUrl,
          audience,
          mint: (claims, aud, expiresIn) => issuer.mint(claims, { audience: aud, expiresIn }),
          idTokenSeconds: options.signInTokenSeconds ?? 3600,
          accessTokenSeconds: options.signInTokenSeconds ?? 3600,
        })
      : undefined;

  const handle = async (request: IncomingMessage): Promise<DevAnswer> => {
    const url = new URL(request.url ?? '/', issuerUrl);
    const path = url.pathname;
    if (signIn !== undefined) {
      const cookies = parseCookies(request.headers.cookie);
      if (request.method === 'GET' && path === '/authorize') return signIn.authorize(url, cookies);
      if (request.method === 'POST' && path === '/authorize')
        return signIn.authorize(url, cookies, new URLSearchParams(await readBody(request)));
      if (request.method === 'GET' && path === '/end-session') return signIn.endSession(url, cookies);
      if (request.method === 'POST' && path === '/revoke')
        return signIn.revoke(new URLSearchParams(await readBody(request)));
      if (request.method === 'POST' && path === '/token') {
        const text = await readBody(request);
        // A JSON body is the dev stack's "mint me a token" (allowTokenEndpoint); a form is OAuth.
        if (!text.trimStart().startsWith('{')) return signIn.token(new URLSearchParams(text));
        return mintFromJson(text);
      }
    }
    if (request.method === 'GET' && path === '/.well-known/openid-configuration') {
      return {
        status: 200,
        body: {
          issuer: issuerUrl,
          jwks_uri: `${issuerUrl}/jwks`,
          ...(options.allowTokenEndpoint === true || signIn !== undefined
            ? { token_endpoint: `${issuerUrl}/token` }
            : {}),
          ...(signIn === undefined
            ? {}
            : {
                authorization_endpoint: `${issuerUrl}/authorize`,
                end_session_endpoint: `${issuerUrl}/end-session`,
                revocation_endpoint: `${issuerUrl}/revoke`,
                code_challenge_methods_supported: ['S256'],
                grant_types_supported: ['authorization_code', 'refresh_token'],
                token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
                authorization_response_iss_parameter_supported: true,
                scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
              }),
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          response_types_supported: signIn === undefined ? ['token'] : ['code'],
          subject_types_supported: ['public'],
          ...Object.assign({}, ...(options.extensions ?? []).map((extension) => extension.metadata(issuerUrl))),
        },
      };
    }
    if (request.method === 'GET' && path === '/jwks') {
      jwksFetches += 1;
      return { status: 200, body: { keys: keys.map((k) => k.publicJwk) } };
    }
    if (request.method === 'POST' && path === '/token') {
      const text = await readBody(request);
      if (text.trimStart().startsWith('{')) return mintFromJson(text);
      // An OAuth form no extension took: a refresh token nobody issued, or a grant nobody serves.
      const grant = new URLSearchParams(text).get('grant_type');
      return { status: 400, body: { error: grant === 'refresh_token' ? 'invalid_grant' : 'unsupported_grant_type' } };
    }
    // RFC 7009: revoking a token the server does not know is answered 200.
    if (request.method === 'POST' && path === '/revoke' && (options.extensions ?? []).length > 0)
      return { status: 200, body: {} };
    return { status: 404, body: { error: 'not found' } };
  };
  const mintFromJson = async (text: string): Promise<DevAnswer> => {
    if (options.allowTokenEndpoint !== true) return { status: 400, body: { error: 'unsupported_grant_type' } };
    const claims = JSON.parse(text || '{}') as JWTPayload;
    if (typeof claims.sub !== 'string') return { status: 400, body: { error: 'sub is required' } };
    return { status: 200, body: { access_token: await issuer.mint(claims), token_type: 'Bearer', expires_in: 3600 } };
  };

  const host = options.host ?? '127.0.0.1';
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  issuerUrl = options.publicUrl ?? `http://${host}:${(server.address() as AddressInfo).port}`;
  // Both algorithms from the start; RS256 last, so it is what `mint` uses by default.
  keys.push(await makeKey('ES256'), await makeKey('RS256'));

  const issuer: DevIssuer = {
    issuer: issuerUrl,
    jwksUrl: `${issuerUrl}/jwks`,
    audience,
    get jwksFetches() {
      return jwksFetches;
    },
    signIn,
    async mint(claims, mint = {}) {
      const key =
        mint.kid !== undefined
          ? keys.find((k) => k.kid === mint.kid)
          : keys.filter((k) => mint.alg === undefined || k.alg === mint.alg).at(-1);
      if (key === undefined) throw new Error(`no such key: ${mint.kid}`);
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ ...claims })
        .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(mint.withKid === false ? {} : { kid: key.kid }) })
        .setIssuer(mint.issuer ?? issuerUrl)
        .setAudience(mint.audience ?? audience)
        .setIssuedAt(now)
        .setJti(crypto.randomUUID())
        .setExpirationTime(now + (mint.expiresIn ?? 3600));
      if (mint.notBefore !== undefined) jwt.setNotBefore(now + mint.notBefore);
      return jwt.sign(key.privateKey);
    },
    async rotate(alg = 'RS256') {
      const key = await makeKey(alg);
      keys.push(key);
      return key.kid;
    },
    retire(kid) {
      const index = keys.findIndex((k) => k.kid === kid);
      if (index >= 0) keys.splice(index, 1);
    },
    async strangerKey(alg = 'RS256') {
      const key = await makeKey(alg);
      return { kid: key.kid, privateKey: key.privateKey };
    },
    async close() {
      // Closing twice (a test that takes the IdP down, then its fixture) must not wait for a
      // 'close' that already happened.
      if (!server.listening) return;
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return issuer;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) cookies[part.slice(0, index).trim()] = part.slice(index + 1).trim();
  }
  return cookies;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
