// Who the command talks to and as whom. The profile (--profile, GATEHOUSE_PROFILE, else the
// config's current one) names the edge and its CA; GATEHOUSE_URL and GATEHOUSE_CA override it, for
// CI. The token: GATEHOUSE_TOKEN as is when set (CI), else the profile's stored login, refreshed
// through the issuer when it has expired.
import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';
import { createGatehouseClient, type GatehouseClient, type Problem } from '../client/index.js';
import { CliError, exitCodes } from './errors.js';
import { freshTokens } from './login.js';
import { checkProfileName, type Profile, type Store } from './store.js';

export interface SessionOptions {
  store: Store;
  env: NodeJS.ProcessEnv;
  profile?: string;
}

export class Session {
  readonly profileName: string;
  readonly profile: Profile;
  private dispatcher: Dispatcher | undefined;

  constructor(private readonly options: SessionOptions) {
    const config = options.store.readConfig();
    this.profileName = checkProfileName(
      options.profile ?? options.env.GATEHOUSE_PROFILE ?? config.current ?? 'default',
    );
    const stored = config.profiles[this.profileName];
    const url = options.env.GATEHOUSE_URL ?? stored?.url;
    if (url === undefined || url === '')
      throw new CliError(
        'GATEHOUSE_CLI_NO_PROFILE',
        'No edge to talk to',
        `profile "${this.profileName}" is not set up: run \`gatehouse profile set ${this.profileName} --url https://gatehouse.example.com\` (or set GATEHOUSE_URL)`,
      );
    const ca = options.env.GATEHOUSE_CA ?? stored?.ca;
    this.profile = { ...stored, url, ...(ca === undefined || ca === '' ? {} : { ca }) };
  }

  /** A fetch that trusts the profile's CA (and the system's when there is none). */
  get fetch(): typeof fetch {
    if (this.dispatcher === undefined && this.profile.ca !== undefined) {
      let ca: string;
      try {
        ca = readFileSync(this.profile.ca, 'utf8');
      } catch (error) {
        throw new CliError(
          'GATEHOUSE_CLI_CONFIG',
          'Unreadable CA file',
          `${this.profile.ca}: ${(error as Error).message}`,
        );
      }
      this.dispatcher = new Agent({ connect: { ca } });
    }
    const dispatcher = this.dispatcher;
    // Node's fetch is undici's: it takes a dispatcher that the DOM types do not describe.
    return (input, init) =>
      fetch(input, { ...init, ...(dispatcher === undefined ? {} : { dispatcher }) } as RequestInit).catch(
        (error: unknown) => {
          throw unreachable(this.profile.url, error);
        },
      );
  }

  async token(): Promise<string> {
    const fromEnv = this.options.env.GATEHOUSE_TOKEN;
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return (await freshTokens(this.options.store, this.profileName, this.profile)).accessToken;
  }

  client(): GatehouseClient {
    const fetchWithCa = this.fetch;
    return createGatehouseClient({
      baseUrl: this.profile.url.replace(/\/+$/, ''),
      token: () => this.token(),
      fetch: (request: Request) => fetchWithCa(request),
    });
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

function unreachable(url: string, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.message ?? (error as Error).message;
  return new CliError(
    'GATEHOUSE_CLI_UNREACHABLE',
    'Could not reach the edge',
    `${url}: ${why}${cause?.code === undefined ? '' : ` (${cause.code})`}`,
    exitCodes.unreachable,
  );
}

/**
 * The data of a typed call, or a CliError carrying the API's problem (code, title, detail and
 * request id) when it answered one.
 */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.error === undefined && answer.data !== undefined) return answer.data;
  if (answer.error === undefined && answer.response.ok) return undefined as T;
  throw problemError(answer.response, answer.error);
}

export function problemError(response: Response, body: unknown): CliError {
  const problem = body as Partial<Problem> | undefined;
  if (typeof problem === 'object' && problem !== null && typeof problem.code === 'string')
    return new CliError(
      problem.code,
      problem.title ?? response.statusText,
      problem.detail ?? '',
      response.status === 401 ? exitCodes.signedOut : exitCodes.refused,
      response.status,
      problem.requestId,
    );
  return new CliError(
    'GATEHOUSE_CLI_UNEXPECTED_ANSWER',
    'Unexpected answer',
    `HTTP ${response.status} ${response.statusText} from ${new URL(response.url).pathname}, not a Gatehouse problem`,
    exitCodes.unreachable,
    response.status,
  );
}
