// The shape of gatehouse.yaml. The schema is the type (`GatehouseConfigFile` is derived from it)
// and the only place defaults live, so a file only has to say what differs. The provider keys
// (webhooks.<provider>, ci.statusApis.<provider>) come from the provider registry.
import Type, { type Static, type TOptional, type TSchema } from 'typebox';
import { providerNames, providers, type ProviderName } from '../providers/registry.js';

const Name = Type.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: 'lower-case, digits and dashes' });
const Duration = Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$', description: 'a duration such as 30s, 10m, 1h' });
const durationDefault = (value: string, description?: string) =>
  Type.String({ ...Duration, default: value, ...(description === undefined ? {} : { description }) });

/** One optional entry per registered provider. */
function perProvider<T extends TSchema>(schema: T): { [K in ProviderName]: TOptional<T> } {
  return Object.fromEntries(providerNames.map((name) => [name, Type.Optional(schema)])) as {
    [K in ProviderName]: TOptional<T>;
  };
}

/** Asymmetric algorithms only: keys come from a JWKS, so HMAC and `none` can never be right. */
export const JwtAlgorithm = Type.Union([
  Type.Literal('RS256'),
  Type.Literal('RS384'),
  Type.Literal('RS512'),
  Type.Literal('PS256'),
  Type.Literal('PS384'),
  Type.Literal('PS512'),
  Type.Literal('ES256'),
  Type.Literal('ES384'),
  Type.Literal('ES512'),
  Type.Literal('EdDSA'),
]);

const Access = Type.Object(
  {
    groups: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    roles: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'values of the roles claim that may call the route',
    }),
    scopes: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    anyAuthenticated: Type.Boolean({ default: false, description: 'any verified caller may use the route' }),
  },
  { additionalProperties: false },
);

export const RouteSchema = Type.Object(
  {
    workflowType: Type.String({ minLength: 1 }),
    taskQueue: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    access: Access,
    input: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of the request body' }),
    idempotency: Type.Object(
      {
        required: Type.Boolean({ default: false, description: 'reject starts without an Idempotency-Key' }),
      },
      { additionalProperties: false, default: {} },
    ),
    timeouts: Type.Object(
      {
        execution: Type.Optional(Duration),
        run: Type.Optional(Duration),
      },
      { additionalProperties: false, default: {} },
    ),
    callback: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description:
          "the completion callback of this route's jobs when the caller names none (Gatehouse-Callback-URL); callbacks.allow must allow it",
      }),
    ),
  },
  { additionalProperties: false },
);

const SecretRef = Type.Union(
  [
    Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { description: 'where a secret comes from: an environment variable or a file, never the config itself' },
);

/** A secret reference with its own description. */
const describedSecret = (description: string) => Type.Union(SecretRef.anyOf, { description });

/** TLS to the Temporal frontend: present means on. Paths are relative to the config file. */
const TemporalTls = Type.Object(
  {
    serverName: Type.Optional(
      Type.String({ minLength: 1, description: 'the name the server certificate is checked against (and SNI)' }),
    ),
    serverCaFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM CA bundle the server certificate must chain to; absent: system roots',
      }),
    ),
    clientCertFile: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM client certificate (mTLS); needs clientKeyFile' }),
    ),
    clientKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of clientCertFile' })),
  },
  { additionalProperties: false },
);

/** Which deliveries start which route. Absent lists match anything; patterns are globs. */
const WebhookRule = Type.Object(
  {
    route: Name,
    kinds: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('push'),
          Type.Literal('tag'),
          Type.Literal('pull_request'),
          Type.Literal('comment'),
          Type.Literal('other'),
        ]),
        { minItems: 1 },
      ),
    ),
    actions: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    branches: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    repositories: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);

const StatusApi = Type.Object(
  {
    apiUrl: Type.String({
      description:
        'e.g. https://api.github.com, https://gitlab.example/api/v4, https://gitea.example/api/v1, https://api.bitbucket.org/2.0',
    }),
    token: SecretRef,
  },
  { additionalProperties: false },
);

const Step = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    run: Type.String({ minLength: 1, description: 'a shell command, run in the checkout' }),
    timeout: durationDefault('10m'),
  },
  { additionalProperties: false },
);

export const PipelineSchema = Type.Object(
  {
    repositories: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    runner: Type.Union([Type.Literal('steps'), Type.Literal('argo')]),
    steps: Type.Optional(Type.Array(Step, { minItems: 1 })),
    network: Type.Boolean({
      default: false,
      description: 'whether steps may reach the network; the clone always may, steps by default may not',
    }),
    env: Type.Record(Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,63}$' }), Type.String({ maxLength: 4096 }), {
      default: {},
      description: "plain (non-secret) variables for the steps; nothing of the worker's environment reaches them",
    }),
    argo: Type.Optional(
      Type.Object(
        {
          namespace: Type.String({ minLength: 1 }),
          workflowTemplate: Type.Optional(Type.String({ minLength: 1 })),
          entrypoint: Type.Optional(Type.String({ minLength: 1 })),
          manifest: Type.Optional(
            Type.Record(Type.String(), Type.Unknown(), { description: 'an inline Workflow manifest' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The GitHub reconciler's view of one hook: where GitHub keeps its deliveries and how to ask. */
const GitHubReconcile = Type.Object(
  {
    repository: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$', description: 'owner/name of a repository hook' }),
    ),
    organization: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'an organization hook' })),
    app: Type.Optional(
      Type.Object(
        {
          appId: Type.String({ pattern: '^[0-9]+$' }),
          privateKey: SecretRef,
        },
        { additionalProperties: false, description: "the GitHub App's own hook (its JWT lists the deliveries)" },
      ),
    ),
    hookId: Type.Optional(
      Type.Integer({ minimum: 1, description: 'the hook id (X-GitHub-Hook-ID); repository and organization hooks' }),
    ),
    token: Type.Optional(
      describedSecret(
        'a token that may read the hook: admin:repo_hook or admin:org_hook, or the fine-grained "Webhooks: read and write"',
      ),
    ),
    apiUrl: Type.String({ default: 'https://api.github.com', description: 'GitHub Enterprise: https://<host>/api/v3' }),
    every: durationDefault('5m', 'how often the hook is checked'),
    lookback: durationDefault('6h', 'how far back the first check looks (GitHub keeps deliveries for 3 days)'),
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 5,
      description: 'redeliveries asked for one delivery before it is given up and reported',
    }),
  },
  { additionalProperties: false },
);

/** The GitLab watcher's view of one project hook. */
const GitLabReconcile = Type.Object(
  {
    project: Type.String({ minLength: 1, description: 'the project id, or its full path (group/name)' }),
    hookId: Type.Integer({ minimum: 1 }),
    token: SecretRef,
    apiUrl: Type.String({ default: 'https://gitlab.com/api/v4' }),
    every: durationDefault('5m', 'how often the hook is checked'),
    resend: Type.Boolean({
      default: true,
      description: 'resend failed events through the hook events API (GitLab 17.4 and later)',
    }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  },
  { additionalProperties: false },
);

const WebhookHook = Type.Object(
  {
    secrets: Type.Array(SecretRef, {
      minItems: 1,
      description: 'all are accepted, so a secret can be rotated without losing deliveries',
    }),
    signingSecrets: Type.Optional(
      Type.Array(SecretRef, {
        minItems: 1,
        description: 'GitLab signing tokens (whsec_…); when set, the signature is required',
      }),
    ),
    instance: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9-]{0,62}$',
        description:
          'names the provider instance in sender principals (webhook:<instance>:<id>); default the provider name. Give each server its own (github-enterprise), since account ids are only unique per server',
      }),
    ),
    webUrl: Type.Optional(
      Type.String({
        pattern: '^(https?|ssh)://[^\\s]+$',
        description: "the web address of this hook's server, for clone URLs (default ci.webUrls.<provider>)",
      }),
    ),
    rules: Type.Array(WebhookRule, { description: 'first match wins; no match answers 200 {ignored}' }),
    reconcile: Type.Optional(
      Type.Union([GitHubReconcile, GitLabReconcile], {
        description:
          "GitHub: find deliveries that failed or never arrived and ask for them again; GitLab: watch the hook's health and resend failed events",
      }),
    ),
  },
  { additionalProperties: false },
);

const HooksByName = Type.Record(Name, WebhookHook);

/** A Kubernetes name (namespaces): what the edge accepts as a namespace in a path. */
const KubernetesName = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' });

/**
 * Browser sign-in (docs/sign-in.md): the bridge is the OpenID Connect relying party of auth.issuer,
 * so a person's session and their bearer tokens name the same principal. Absent: no sign-in, and
 * the people's paths (/auth, /argo, /temporal) answer 404 at the bridge.
 */
const SignInSchema = Type.Object(
  {
    publicUrl: Type.String({
      pattern: '^https?://[^/\\s?#]+$',
      description:
        "the edge's origin as people's browsers reach it (https://gatehouse.example); the redirect URI is <publicUrl>/auth/callback",
    }),
    clientId: Type.String({ minLength: 1, description: 'the client registered at the IdP' }),
    clientSecret: Type.Optional(
      describedSecret('the client secret (confidential client); absent: a public client, PKCE only'),
    ),
    scopes: Type.Array(Type.String({ pattern: '^[!#-\\[\\]-~]+$' }), {
      default: ['openid', 'profile', 'email', 'offline_access'],
      description: 'offline_access asks for a refresh token; without one a session ends after sessionTtl',
    }),
    sessionTtl: durationDefault('10m', 'the life of a session token; the edge refreshes it when it has run out'),
    maxSessionAge: durationDefault('12h', 'a session is refreshed until this long after sign-in, then signs in again'),
    sessionAudience: Type.String({
      minLength: 1,
      default: 'gatehouse-session',
      description: 'the aud of session tokens: never the API audience, so one kind of token cannot pass as the other',
    }),
    sessionKeys: describedSecret(
      'a JWKS of ES256 private keys (kid on each) shared by every bridge: the first signs, all are published at /.well-known/gatehouse/jwks.json',
    ),
    cookieKeys: Type.Array(SecretRef, {
      minItems: 1,
      description:
        'keys (32 bytes, base64url) that encrypt the refresh and sign-in cookies: the first encrypts, all decrypt (rotation)',
    }),
    maxGroups: Type.Integer({
      minimum: 0,
      default: 50,
      description: 'groups carried in a session token (the cookie must stay under 4 KB); more refuses the sign-in',
    }),
    argo: Type.Object(
      {
        identity: Type.Union([Type.Literal('serviceAccount'), Type.Literal('session')], {
          default: 'serviceAccount',
          description:
            "what reaches Argo as the person: serviceAccount, a token the edge picks per namespace and role (Argo in client mode); session, the person's own session token (the cluster trusts Gatehouse's session keys)",
        }),
        namespaces: Type.Array(KubernetesName, {
          default: [],
          description:
            'namespaces a person may be given a role in (Cedar: argo-view and argo-edit on Gatehouse::ArgoNamespace)',
        }),
        kubernetesAudience: Type.Optional(
          Type.String({ minLength: 1, description: 'added to the aud of session tokens for identity: session' }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    temporal: Type.Object(
      {
        namespaces: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]{1,255}$' }), {
          default: ['default'],
          description:
            'namespaces the Temporal UI may show: admins read and write all of them; others what Cedar gives them (temporal-read, temporal-write on Gatehouse::TemporalNamespace)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        listen: Type.String({ default: '127.0.0.1:8080', pattern: '^[^\\s]+:[0-9]{1,5}$' }),
        requestTimeout: durationDefault('60s', 'the longest a whole request (headers and body) may take to arrive'),
        drainDelay: durationDefault(
          '0s',
          'on SIGTERM, how long /readyz answers 503 while requests are still served, so the edge stops sending first',
        ),
        metricsListen: Type.String({
          default: '127.0.0.1:9464',
          pattern: '^[^\\s]+:[0-9]{1,5}$',
          description: 'host:port of the internal Prometheus listener (GET /metrics); never the public port',
        }),
        trustProxy: Type.Array(Type.String(), {
          default: [],
          description: 'addresses or CIDRs of the edge proxies whose X-Forwarded-* headers are believed',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    temporal: Type.Object(
      {
        address: Type.String({ default: '127.0.0.1:7233' }),
        namespace: Type.String({ default: 'default' }),
        requestTimeout: durationDefault('5s', 'deadline of every Temporal call on a request path; past it, 503'),
        tls: Type.Optional(TemporalTls),
        apiKey: Type.Optional(
          Type.Union(SecretRef.anyOf, {
            description:
              'an API key (Temporal Cloud), sent as "authorization: Bearer <key>"; implies TLS, with the system roots unless tls says otherwise',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        issuer: Type.String({
          minLength: 1,
          pattern: '^[^#\\s]+$',
          description: 'expected iss (no # or spaces: principals are jwt:<issuer>#<sub>)',
        }),
        audience: Type.String({ minLength: 1 }),
        jwksUrl: Type.Optional(Type.String({ minLength: 1 })),
        algorithms: Type.Array(JwtAlgorithm, { minItems: 1, default: ['RS256', 'ES256'] }),
        clockTolerance: durationDefault('30s'),
        jwksCooldown: durationDefault('30s', 'an unknown kid refetches the JWKS at most once per cool-down'),
        jwksRefresh: durationDefault(
          '5m',
          'how often the JWKS is refreshed in the background; the last good set is kept while the IdP is down',
        ),
        tokenCacheSize: Type.Integer({
          minimum: 0,
          default: 10_000,
          description:
            'how many verified tokens the bridge keeps (by SHA-256, each until its exp; dropped when the key set changes); 0 turns the cache off',
        }),
        types: Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          default: ['JWT', 'at+jwt'],
          description:
            'accepted token types (the typ header); set [at+jwt] where the IdP marks access tokens, so ID tokens are refused',
        }),
        claims: Type.Object(
          {
            groups: Type.String({ default: 'groups' }),
            roles: Type.String({ default: 'roles' }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false },
    ),
    admins: Type.Object(
      {
        groups: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    limits: Type.Object(
      {
        maxBodyBytes: Type.Integer({ minimum: 1024, maximum: 1_572_864, default: 262_144 }),
        maxWaitSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
        listPageSize: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
        streamHeartbeat: durationDefault(
          '15s',
          'a comment on every open event stream this often; keep it well under every hop idle timeout (the edge: 65s)',
        ),
        streamMaxDuration: durationDefault(
          '30m',
          'an event stream ends after this long with a retry; the client resumes with Last-Event-ID',
        ),
        maxStreams: Type.Integer({
          minimum: 0,
          default: 2_000,
          description: 'event streams one bridge holds open at once; past it, 503',
        }),
        maxStreamsPerCaller: Type.Integer({
          minimum: 0,
          default: 20,
          description: 'event streams one principal holds open on one bridge; past it, 429',
        }),
        maxStreamWatches: Type.Integer({
          minimum: 0,
          default: 300,
          description:
            "running jobs one bridge follows for its streams, each with one Temporal long-poll; past it, 503. Keep bridges × this well under the Temporal frontend's per-namespace long-poll limit",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    taskQueues: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'the queues the workers poll' }),
    routes: Type.Record(Name, RouteSchema),
    webhooks: Type.Object(
      {
        maxBodyBytes: Type.Integer({
          minimum: 1024,
          maximum: 104_857_600,
          default: 26_214_400,
          description: 'GitHub and GitLab send up to 25 MB',
        }),
        deliveryLog: Type.Object(
          {
            url: Type.Optional(
              describedSecret(
                'a PostgreSQL connection string shared by every bridge replica; absent: in memory, per bridge',
              ),
            ),
            retention: durationDefault('14d', 'how long records are kept'),
            maxEntries: Type.Integer({ minimum: 100, default: 100_000, description: 'the most records kept' }),
            rejectedSamplesPerMinute: Type.Integer({
              minimum: 0,
              default: 20,
              description:
                'unauthenticated rejections recorded per hook and minute; the rest are only counted (metrics)',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        reconciler: Type.Object(
          {
            taskQueue: Type.String({
              minLength: 1,
              default: 'gatehouse-reconcile',
              description: 'where the reconciler workflows run (must be in taskQueues when a hook has reconcile)',
            }),
            scheduleIdPrefix: Type.String({
              pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
              default: 'gatehouse-reconcile',
              description: 'schedules are <prefix>-<provider>-<hook>',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        ...perProvider(HooksByName),
      },
      { additionalProperties: false, default: {} },
    ),
    ci: Type.Object(
      {
        scratchDir: Type.String({
          default: '../.data/ci',
          description: 'checkouts go here, one directory per attempt, always removed',
        }),
        statusContext: Type.String({ default: 'gatehouse/ci' }),
        publicUrl: Type.String({
          default: 'https://127.0.0.1:8443',
          description: 'base of the job links in commit statuses',
        }),
        cancelSuperseded: Type.Boolean({
          default: true,
          description: 'a newer push to the same branch cancels the older run',
        }),
        outputLimitBytes: Type.Integer({
          minimum: 1024,
          maximum: 1_048_576,
          default: 65_536,
          description: 'output kept per step (the tail)',
        }),
        heartbeatTimeout: durationDefault('10s', 'a steps worker that stops heartbeating this long is presumed dead'),
        statusApis: Type.Object(perProvider(StatusApi), { additionalProperties: false, default: {} }),
        webUrls: Type.Object(
          Object.fromEntries(
            providerNames.map((name) => [
              name,
              Type.String({ pattern: '^(https?|ssh)://[^\\s]+$', default: providers[name].defaultWebUrl }),
            ]),
          ) as { [K in ProviderName]: ReturnType<typeof Type.String> },
          {
            additionalProperties: false,
            default: {},
            description:
              'where each provider lives: clone URLs are <webUrl>/<repository>.git, never taken from a caller',
          },
        ),
        sandbox: Type.Object(
          {
            runner: Type.Union([Type.Literal('bwrap'), Type.Literal('none')], {
              default: 'bwrap',
              description:
                'bwrap: git and steps run in bubblewrap namespaces; none: directly (trusted repositories only)',
            }),
            uid: Type.Integer({
              minimum: 1,
              default: 65534,
              description: 'the user steps run as when the worker is root',
            }),
            gid: Type.Integer({ minimum: 1, default: 65534 }),
          },
          { additionalProperties: false, default: {} },
        ),
        cloneProtocols: Type.Array(Type.Union([Type.Literal('https'), Type.Literal('ssh'), Type.Literal('http')]), {
          minItems: 1,
          default: ['https'],
          description: 'protocols git may use to clone; http is for tests on loopback only',
        }),
        argo: Type.Object(
          {
            url: Type.String({
              default: 'http://127.0.0.1:2745',
              description: "the Argo Server API, normally the edge's Argo frontend",
            }),
            token: Type.Optional(SecretRef),
            pollInterval: durationDefault('10s', 'the longest wait between two status reads'),
          },
          { additionalProperties: false, default: {} },
        ),
        pipelines: Type.Array(PipelineSchema, { default: [], description: 'first match by repository wins' }),
      },
      { additionalProperties: false, default: {} },
    ),
    ledger: Type.Object(
      {
        dataDir: Type.String({
          default: '../.data/ledger',
          description: 'embedded PGlite files, relative to the config file; "memory" keeps none',
        }),
        url: Type.Optional(SecretRef),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'the usage ledger: a real PostgreSQL when url is set, else embedded PGlite',
      },
    ),
    callbacks: Type.Object(
      {
        allow: Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
          default: [],
          description:
            'the URLs a completion callback may name: scheme://host[:port]/path-glob (https; http only on loopback); a host may start with *. (one label); the query is not matched; empty: no callbacks',
        }),
        secret: Type.Optional(
          describedSecret(
            'the Standard Webhooks signing secret, whsec_<base64 of 24 to 64 bytes>; resolved only by the workers that deliver callbacks',
          ),
        ),
        taskQueue: Type.Optional(
          Type.String({
            minLength: 1,
            description: "where callbacks are delivered (one of taskQueues); absent: on each job's own queue",
          }),
        ),
        retryFor: durationDefault('24h', 'how long a callback is retried from its first attempt before it is given up'),
        initialInterval: durationDefault('5s', 'the wait after the first failed attempt; it doubles each time'),
        maxInterval: durationDefault('10m', 'the longest wait between two attempts'),
        timeout: durationDefault('10s', 'one attempt: connect, send the event, receive the answer'),
      },
      { additionalProperties: false, default: {} },
    ),
    signIn: Type.Optional(SignInSchema),
    policy: Type.Object(
      {
        policies: Type.String({ default: 'policies/gatehouse.cedar', description: 'relative to the config file' }),
        entities: Type.Optional(
          Type.String({ description: 'a Cedar entities JSON file, relative to the config file' }),
        ),
        schema: Type.Optional(
          Type.String({ description: 'a Cedar schema; policies and entities are validated against it at start-up' }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type GatehouseConfigFile = Static<typeof ConfigSchema>;
export type RouteConfig = Static<typeof RouteSchema>;
export type JwtAlgorithmName = Static<typeof JwtAlgorithm>;
export type WebhookHookConfig = Static<typeof WebhookHook>;
export type PipelineConfig = Static<typeof PipelineSchema>;
export type StepConfig = Static<typeof Step>;
export type WebhookRuleConfig = Static<typeof WebhookRule>;
export type SecretRefConfig = Static<typeof SecretRef>;
export type GitHubReconcileConfig = Static<typeof GitHubReconcile>;
export type GitLabReconcileConfig = Static<typeof GitLabReconcile>;
export type CallbacksConfig = GatehouseConfigFile['callbacks'];
export type SignInConfig = Static<typeof SignInSchema>;
