// The shape of gatehouse.yaml. The schema is the type (`GatehouseConfigFile` is derived from it)
// and the only place defaults live, so a file only has to say what differs. The provider keys
// (webhooks.<provider>, ci.statusApis.<provider>) come from the provider registry.
import Type, { type Static, type TOptional, type TSchema } from 'typebox';
import { describedSecret, duration, durationDefault, SecretRef } from '../core/config-values.js';
import { providerNames, providers, reconcilerOf, type ProviderName } from '../providers/registry.js';

// A name and a duration are kinds of value; what each key holding one means is said by the key.
const namePattern = '^[a-z][a-z0-9-]{0,62}$';
const Name = Type.String({ pattern: namePattern });

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
    groups: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'values of the groups claim that may call the route',
    }),
    roles: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'values of the roles claim that may call the route',
    }),
    scopes: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'token scopes (the scope claim) that may call the route',
    }),
    anyAuthenticated: Type.Boolean({ default: false, description: 'any verified caller may use the route' }),
  },
  {
    additionalProperties: false,
    description:
      'who may call the route besides admins: any one of these lets a caller in; a route nobody could call is refused',
  },
);

export const RouteSchema = Type.Object(
  {
    workflowType: Type.String({
      minLength: 1,
      description: 'the workflow a start runs, from the workflow catalog (src/core/workflow-catalog.ts)',
    }),
    taskQueue: Type.String({
      minLength: 1,
      description: "the task queue the route's workflows run on, one of taskQueues",
    }),
    description: Type.Optional(Type.String({ description: "the route's summary in the OpenAPI document" })),
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
        execution: Type.Optional(
          duration("the job's whole life, retries and continue-as-new included (Temporal's execution timeout)"),
        ),
        run: Type.Optional(duration("one run of the job's workflow (Temporal's run timeout)")),
      },
      { additionalProperties: false, default: {} },
    ),
    callback: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description:
          "the completion callback of this route's jobs when the caller names none (Gatehouse-Callback-URL); a receiver of callbacks.receivers that lists this route must allow it",
      }),
    ),
  },
  { additionalProperties: false },
);

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
  {
    additionalProperties: false,
    description: 'TLS to the Temporal frontend, on when present (an empty section: TLS with the system roots)',
  },
);

/** One completion-callback receiver: where it listens, its own signing key, and who may name it. */
const CallbackReceiver = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'scheme://host[:port]/path-glob (https; http only on loopback); the host may start with *. (one label); write /** for any path',
    }),
    secret: describedSecret(
      "this receiver's own Standard Webhooks key, whsec_<base64 of 24 to 64 bytes>; resolved only by the workers that deliver callbacks",
    ),
    routes: Type.Optional(
      Type.Array(Name, {
        minItems: 1,
        uniqueItems: true,
        description: 'only jobs of these routes may name it (and a route default must be listed here)',
      }),
    ),
    groups: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        uniqueItems: true,
        description: 'only callers in one of these groups may name it in Gatehouse-Callback-URL',
      }),
    ),
    query: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.~-]{1,64}$' }), {
      default: [],
      uniqueItems: true,
      description: 'the query parameters a callback URL may carry, each at most once; empty: no query string at all',
    }),
  },
  { additionalProperties: false },
);

/** Which deliveries start which route. Absent lists match anything; patterns are globs. */
const WebhookRule = Type.Object(
  {
    route: Type.String({ pattern: namePattern, description: 'the route a matching delivery starts' }),
    kinds: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('push'),
          Type.Literal('tag'),
          Type.Literal('pull_request'),
          Type.Literal('comment'),
          Type.Literal('other'),
        ]),
        { minItems: 1, description: 'the event kinds that match; absent: any' },
      ),
    ),
    actions: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'the neutral actions that match (opened, synchronize, closed, merged, reopened, …); absent: any',
      }),
    ),
    branches: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          'globs a branch must match; once branches or tags is set, a branch must match branches and a tag tags, so branches alone matches no tag',
      }),
    ),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'globs a tag must match (see branches)' }),
    ),
    repositories: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'globs the repository (owner/name) must match; absent: any',
      }),
    ),
  },
  { additionalProperties: false },
);

const StatusApi = Type.Object(
  {
    apiUrl: Type.String({
      description:
        'e.g. https://api.github.com, https://gitlab.example/api/v4, https://gitea.example/api/v1, https://api.bitbucket.org/2.0',
    }),
    token: describedSecret('a token that may post commit statuses on the repositories built'),
  },
  { additionalProperties: false, description: "the provider's REST API for commit statuses" },
);

const Step = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "the step's name in the job's events and result" }),
    run: Type.String({ minLength: 1, description: 'a shell command, run in the checkout' }),
    timeout: durationDefault('10m', "the step's limit; past it, its whole process group is killed and the step fails"),
  },
  { additionalProperties: false },
);

export const PipelineSchema = Type.Object(
  {
    repositories: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'globs of the repositories (owner/name) this pipeline builds',
    }),
    runner: Type.Union([Type.Literal('steps'), Type.Literal('argo')], {
      description: 'steps: the worker runs the steps in its sandbox; argo: an Argo Workflow runs the build',
    }),
    steps: Type.Optional(
      Type.Array(Step, { minItems: 1, description: 'the steps (runner steps), run in order in the checkout' }),
    ),
    network: Type.Boolean({
      default: false,
      description:
        "whether steps may reach the network: only the hosts in ci.sandbox.egress.allow, through the worker's egress proxy (the clone always reaches its git server)",
    }),
    env: Type.Record(Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,63}$' }), Type.String({ maxLength: 4096 }), {
      default: {},
      description: "plain (non-secret) variables for the steps; nothing of the worker's environment reaches them",
    }),
    argo: Type.Optional(
      Type.Object(
        {
          namespace: Type.String({ minLength: 1, description: 'the Argo namespace the workflow runs in' }),
          workflowTemplate: Type.Optional(
            Type.String({ minLength: 1, description: 'submit from this WorkflowTemplate (or give a manifest)' }),
          ),
          entrypoint: Type.Optional(
            Type.String({ minLength: 1, description: "the template to start; absent: the workflow's own" }),
          ),
          manifest: Type.Optional(
            Type.Record(Type.String(), Type.Unknown(), { description: 'an inline Workflow manifest' }),
          ),
        },
        {
          additionalProperties: false,
          description: 'the Argo Workflow a build submits (runner argo): a WorkflowTemplate or an inline manifest',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Each registered provider's form of a hook's reconcile block (src/providers/<name>/reconciler.ts). */
type ReconcileForm = {
  [K in ProviderName]: (typeof providers)[K] extends { reconciler: { settings: infer S extends TSchema } } ? S : never;
}[ProviderName];

const reconcileForms = providerNames.flatMap((name) => {
  const reconciler = reconcilerOf(name);
  return reconciler === undefined ? [] : [reconciler.settings];
}) as [ReconcileForm];

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
      Type.Union(reconcileForms, {
        description:
          "find the deliveries the provider reports failed (or, where the delivery log can tell, never arrived) and ask for them again; the form is the hook's provider's, and a provider without one has no reconciler",
      }),
    ),
  },
  { additionalProperties: false },
);

const HooksByName = Type.Record(Name, WebhookHook, {
  description:
    "the provider's hooks by name: default is served at /v1/webhooks/<provider>, any other at /v1/webhooks/<provider>/<hook>",
});

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
    console: Type.Object(
      {
        argoUrl: Type.String({
          default: '/argo/',
          pattern: '^((/|https://)\\S*/)?$',
          description:
            "where people open Argo's UI (behind the gate: /argo/); a job's page links its Argo Workflow at <argoUrl>workflows/<namespace>/<name>. Empty: no link",
        }),
        traceUrl: Type.Optional(
          Type.String({
            pattern: '^https://\\S*\\{traceId\\}',
            description:
              "a trace UI's page for one trace, with {traceId} where the id goes (https://jaeger.example/trace/{traceId}); absent: the trace id is shown as text",
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: "the console's pages at /ui/ (docs/console.md), served whenever sign-in is on",
      },
    ),
  },
  {
    additionalProperties: false,
    description:
      'browser sign-in at the edge (docs/sign-in.md): the bridge is the OpenID Connect relying party of auth.issuer; absent: no sign-in',
  },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        listen: Type.String({
          default: '127.0.0.1:8080',
          pattern: '^[^\\s]+:[0-9]{1,5}$',
          description: 'host:port the bridge serves the API on',
        }),
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
        address: Type.String({ default: '127.0.0.1:7233', description: 'host:port of the Temporal frontend' }),
        namespace: Type.String({ default: 'default', description: 'the Temporal namespace every job lives in' }),
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
        audience: Type.String({ minLength: 1, description: 'expected aud (the token may list several)' }),
        jwksUrl: Type.Optional(
          Type.String({ minLength: 1, description: "the issuer's JWKS, instead of the one its OIDC discovery names" }),
        ),
        algorithms: Type.Array(JwtAlgorithm, {
          minItems: 1,
          default: ['RS256', 'ES256'],
          description: 'the JWT algorithms accepted; HMAC and none cannot be configured',
        }),
        clockTolerance: durationDefault('30s', 'leeway for exp and nbf'),
        jwksCooldown: durationDefault('30s', 'an unknown kid refetches the JWKS at most once per cool-down'),
        jwksTimeout: durationDefault('5s', "one fetch of the issuer's discovery document or JWKS"),
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
            groups: Type.String({
              default: 'groups',
              description: "the claim whose values are the caller's groups (route access, admins, Cedar membership)",
            }),
            roles: Type.String({
              default: 'roles',
              description: "the claim whose values are the caller's roles (route access through access.roles only)",
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false },
    ),
    admins: Type.Object(
      {
        groups: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            "groups whose members may read, list and cancel every job, read anyone's usage and use the delivery log (admins are named by group only)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    limits: Type.Object(
      {
        maxBodyBytes: Type.Integer({
          minimum: 1024,
          maximum: 1_572_864,
          default: 262_144,
          description: "the largest job input, in bytes (Temporal's payload cap is 2 MiB)",
        }),
        maxWaitSeconds: Type.Integer({
          minimum: 0,
          maximum: 300,
          default: 30,
          description: 'the cap for ?wait=N on a job read',
        }),
        listPageSize: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 20,
          description: 'the page size of GET /v1/jobs when the client names none (it may ask for up to 100)',
        }),
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
        maxStreamWatchesPerCaller: Type.Integer({
          minimum: 0,
          default: 10,
          description:
            "each principal's share of maxStreamWatches: running jobs one principal may have this bridge follow for it; past it, 429 (streams on jobs already followed, or closed, still open). maxStreamWatches / this is how many principals get their whole share at once",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    taskQueues: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: "the queues the workers poll; a worker started with --queues <q> registers only that queue's work",
    }),
    routes: Type.Record(Name, RouteSchema, { description: 'the job routes by name: each is POST /v1/jobs/<name>' }),
    webhooks: Type.Object(
      {
        maxBodyBytes: Type.Integer({
          minimum: 1024,
          maximum: 104_857_600,
          default: 26_214_400,
          description: 'the largest webhook delivery, in bytes (GitHub and GitLab send up to 25 MB)',
        }),
        deliveryLog: Type.Object(
          {
            url: Type.Optional(
              describedSecret(
                'a PostgreSQL connection string shared by every bridge replica; absent: in memory, per bridge',
              ),
            ),
            retention: durationDefault('14d', 'how long records are kept'),
            maxEntries: Type.Integer({
              minimum: 100,
              default: 100_000,
              description: 'the most records kept (samples are counted apart, under maxSamples)',
            }),
            maxSamples: Type.Integer({
              minimum: 100,
              default: 10_000,
              description:
                'the most samples kept (unauthenticated requests, signed bodies sent again), apart from the records',
            }),
            rejectedSamplesPerMinute: Type.Integer({
              minimum: 0,
              default: 20,
              description:
                'samples recorded per hook and minute, of each kind (unauthenticated requests; signed bodies the hook had already recorded); the rest are only counted (metrics)',
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
            requestTimeout: durationDefault(
              '30s',
              "one call to a provider's hook API (a page of deliveries, a redelivery, the hook's health), its answer read in full",
            ),
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
        statusContext: Type.String({
          default: 'gatehouse/ci',
          description: 'the context (check name) of the commit statuses a build posts',
        }),
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
        statusTimeout: durationDefault(
          '10s',
          'one commit-status call to a status API; past it, the call fails and is retried',
        ),
        webUrls: Type.Object(
          Object.fromEntries(
            providerNames.map((name) => [
              name,
              Type.String({
                pattern: '^(https?|ssh)://[^\\s]+$',
                default: providers[name].defaultWebUrl,
                description: `the web address of the ${name} server`,
              }),
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
                'bwrap: git and steps run in bubblewrap namespaces under a seccomp filter; none: directly (trusted repositories only)',
            }),
            uid: Type.Integer({
              minimum: 1,
              maximum: 4_294_967_294,
              default: 60000,
              description:
                'the first uid steps run as (the worker must be root to switch): each job running at once gets its own, uid to uid + ids - 1',
            }),
            gid: Type.Integer({
              minimum: 1,
              maximum: 4_294_967_294,
              default: 60000,
              description: 'the first gid, likewise',
            }),
            ids: Type.Integer({
              minimum: 1,
              maximum: 65_536,
              default: 1000,
              description: 'how many uids (and gids) from uid: the most jobs one worker runs at once',
            }),
            proc: Type.Union([Type.Literal('private'), Type.Literal('shared')], {
              default: 'private',
              description:
                "private: each step gets a /proc of its own PID namespace (the container's /proc must not be masked); shared: the container's /proc, read-only (Kubernetes' default procMount; steps see the container's process list)",
            }),
            allowWorkerUid: Type.Boolean({
              default: false,
              description:
                'a worker that is not root cannot give steps another uid; true lets it run them as itself (a development machine only); false: it refuses to start',
            }),
            allowNetworkWithoutTemporalAuth: Type.Boolean({
              default: false,
              description:
                'pipelines with network: true are refused unless the Temporal connection has mTLS or an API key; true accepts an open Temporal',
            }),
            egress: Type.Object(
              {
                allow: Type.Array(
                  Type.String({ pattern: '^(\\*\\.)?[A-Za-z0-9.-]+:[0-9]{1,5}$|^\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}$' }),
                  {
                    default: [],
                    description:
                      'where network steps may connect through the egress proxy: host:port, a host may start with *. (one label); an IP address is taken as written (deny does not apply to it)',
                  },
                ),
                deny: Type.Array(Type.String({ pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$' }), {
                  default: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
                  description:
                    "the deployment's own ranges: a name that resolves into one is refused. Loopback, link-local (the metadata address), unspecified and multicast are always refused",
                }),
              },
              { additionalProperties: false, default: {} },
            ),
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
            token: Type.Optional(describedSecret('a bearer token for the Argo Server')),
            pollInterval: durationDefault('10s', 'the longest wait between two status reads'),
            requestTimeout: durationDefault(
              '30s',
              'one call to the Argo Server; past it, the call fails and is retried',
            ),
          },
          { additionalProperties: false, default: {} },
        ),
        pipelines: Type.Array(PipelineSchema, { default: [], description: 'first match by repository wins' }),
      },
      { additionalProperties: false, default: {} },
    ),
    worker: Type.Object(
      {
        cachedWorkflows: Type.Optional(
          Type.Integer({
            minimum: 0,
            description:
              "workflows each queue's worker keeps in memory between their tasks (the SDK's maxCachedWorkflows); an evicted one replays its history at its next task, 0 turns the cache off; unset: the SDK's default, from the heap limit (about 2,000 on a 4 GB heap)",
          }),
        ),
        workflowTaskSlots: Type.Optional(
          Type.Integer({
            minimum: 2,
            description:
              "workflow tasks each queue's worker runs at once (maxConcurrentWorkflowTaskExecutions); at most cachedWorkflows; unset: the SDK's 40",
          }),
        ),
        activitySlots: Type.Optional(
          Type.Integer({
            minimum: 1,
            description:
              "activities each job queue's worker runs at once (maxConcurrentActivityTaskExecutions): on a CI queue, the jobs whose steps run together; unset: the SDK's 100",
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'how much each worker takes on at once (docs/production.md, "Workers: memory and the knobs to size")',
      },
    ),
    ledger: Type.Object(
      {
        dataDir: Type.String({
          default: '../.data/ledger',
          description: 'embedded PGlite files, relative to the config file; "memory" keeps none',
        }),
        url: Type.Optional(
          describedSecret('a PostgreSQL connection string: a ledger every worker shares; absent: PGlite in dataDir'),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'the usage ledger: a real PostgreSQL when url is set, else embedded PGlite',
      },
    ),
    callbacks: Type.Object(
      {
        receivers: Type.Record(Name, CallbackReceiver, {
          default: {},
          description:
            'the receivers a completion callback may go to, by name (src/config/callbacks.ts); empty: no callbacks',
        }),
        allow: Type.Optional(
          Type.Unknown({ description: 'removed: list receivers under callbacks.receivers (check-config says how)' }),
        ),
        secret: Type.Optional(
          Type.Unknown({
            description: 'removed: each receiver has its own secret, callbacks.receivers.<name>.secret',
          }),
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
        maxConcurrent: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 50,
          description:
            "attempts in flight at once per delivering worker, on the callbacks' own activity slots (never the job queue's)",
        }),
        breaker: Type.Object(
          {
            failures: Type.Integer({
              minimum: 1,
              maximum: 1000,
              default: 5,
              description:
                'consecutive failed attempts to one host (timeouts, network errors, 5xx, 429) that open its circuit',
            }),
            coolDown: durationDefault(
              '30s',
              'how long an open circuit fails attempts at once (Temporal retries them after it) before one attempt tries the host again',
            ),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    signIn: Type.Optional(SignInSchema),
    policy: Type.Object(
      {
        policies: Type.String({
          default: 'policies/gatehouse.cedar',
          description: 'the Cedar policies (each named by @id), relative to the config file',
        }),
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
export type CallbacksConfig = GatehouseConfigFile['callbacks'];
export type SignInConfig = Static<typeof SignInSchema>;
export type CallbackReceiverConfig = Static<typeof CallbackReceiver>;
