// The issuer's signing keys, held by the bridge: fetched once, refreshed in the background every
// `refreshMs`, and refetched when a token names an unknown `kid` (at most once per cool-down, so a
// flood of forged kids cannot hammer the IdP). A failed refresh keeps the last good key set: an
// IdP outage does not take the API down while the keys it published are still the keys. How old
// the held set is shows in /readyz and in `gatehouse_jwks_age_seconds`. Only before the first good
// fetch are tokens uncheckable (503). `generation` counts the key sets held that differ from the one
// before (a key added, removed or replaced), so the verified-token cache can drop what it verified
// with keys the issuer may have withdrawn.
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { discoverJwksUrl } from '../../config/oidc-discovery.js';

export interface KeyStoreOptions {
  issuer: string;
  jwksUrl?: string;
  refreshMs: number;
  cooldownMs: number;
  fetchTimeoutMs: number;
  now?: () => number;
}

export interface KeyStoreState {
  /** Seconds since the held key set was fetched; undefined before the first good fetch. */
  ageSeconds?: number;
  /** The last refresh failed: the held set is being served while the IdP is unreachable. */
  stale: boolean;
  lastError?: string;
}

/** Thrown when no key set has ever been fetched and the IdP cannot be reached now. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

export interface KeyStore {
  /** The key resolver for jose's jwtVerify. */
  readonly getKey: JWTVerifyGetKey;
  /** Grows by one each time a fetched key set differs from the one held (0 for the first). */
  readonly generation: number;
  state(): KeyStoreState;
  /** Fetches now (the background refresh calls this); keeps the held set on failure. */
  refresh(): Promise<void>;
  close(): void;
}

export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const now = options.now ?? Date.now;
  let held: { resolve: JWTVerifyGetKey; fetchedAt: number; fingerprint: string } | undefined;
  let generation = 0;
  let lastError: string | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const fetchKeys = async () => {
    const url = await discoverJwksUrl(options.issuer, options.jwksUrl, options.fetchTimeoutMs);
    const response = await fetch(url, {
      signal: AbortSignal.timeout(options.fetchTimeoutMs),
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`the JWKS answered ${response.status}`);
    const jwks = (await response.json()) as JSONWebKeySet;
    if (!Array.isArray(jwks.keys)) throw new Error('the JWKS has no keys array');
    const fingerprint = keySetFingerprint(jwks);
    if (held?.fingerprint === fingerprint) {
      held.fetchedAt = now();
    } else {
      // The first set is generation 0: nothing was verified before it.
      if (held !== undefined) generation += 1;
      held = { resolve: createLocalJWKSet(jwks), fetchedAt: now(), fingerprint };
    }
    lastError = undefined;
  };

  const refresh = () => {
    inFlight ??= (async () => {
      lastAttempt = now();
      try {
        await fetchKeys();
      } catch (error) {
        lastError = (error as Error).message;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const timer = setInterval(() => void refresh(), options.refreshMs);
  timer.unref();

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (held === undefined) {
      await refresh();
      if (held === undefined) throw new KeysUnavailableError(`the issuer's keys could not be fetched: ${lastError}`);
    }
    try {
      return await held.resolve(header, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      // A kid we do not hold may be a key the IdP published since. While the IdP cannot be reached
      // that cannot be told (503); otherwise refetch, at most once per cool-down.
      if (lastError !== undefined)
        throw new KeysUnavailableError(`the issuer's keys could not be refreshed: ${lastError}`);
      if (now() - lastAttempt < options.cooldownMs) throw error;
      await refresh();
      if (lastError !== undefined)
        throw new KeysUnavailableError(`the issuer's keys could not be refreshed: ${lastError}`);
      return held.resolve(header, token);
    }
  };

  return {
    getKey,
    get generation() {
      return generation;
    },
    state() {
      return {
        ...(held === undefined ? {} : { ageSeconds: Math.round((now() - held.fetchedAt) / 1000) }),
        stale: lastError !== undefined,
        ...(lastError === undefined ? {} : { lastError }),
      };
    },
    refresh,
    close: () => clearInterval(timer),
  };
}

/** The key set as a value: the same keys in any order give the same fingerprint. */
function keySetFingerprint(jwks: JSONWebKeySet): string {
  return jwks.keys
    .map((key) => JSON.stringify(key))
    .sort()
    .join('\n');
}
