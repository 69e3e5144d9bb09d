// The typed Gatehouse client: openapi-fetch over the types generated from the bridge's OpenAPI
// document (openapi.ts, `npm run generate-client`). Every path, parameter, body and answer is
// checked by the compiler against the document the bridge serves. The `gatehouse` command uses it;
// another project imports it from `gatehouse/client`.
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './openapi.js';

export type { components, operations, paths };
export type GatehouseClient = Client<paths>;

/** A problem+json answer (RFC 9457) with the stable `GATEHOUSE_*` code. */
export type Problem = operations['read-job']['responses']['4XX']['content']['application/json'];
export type JobView = operations['read-job']['responses'][200]['content']['application/json'];
export type StartedJob = operations['start-ci']['responses'][202]['content']['application/json'];
export type JobList = operations['list-jobs']['responses'][200]['content']['application/json'];
export type Whoami = operations['whoami']['responses'][200]['content']['application/json'];
export type DeliveryList = operations['list-webhook-deliveries']['responses'][200]['content']['application/json'];

export interface GatehouseClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** The edge (or a bridge) URL, e.g. https://gatehouse.example.com */
  baseUrl: string;
  /** A bearer token, or a function that returns a fresh one for each request. */
  token?: string | (() => Promise<string>);
}

export function createGatehouseClient(options: GatehouseClientOptions): GatehouseClient {
  const { token, ...rest } = options;
  const client = createClient<paths>(rest);
  if (token !== undefined) {
    client.use({
      async onRequest({ request }) {
        request.headers.set('authorization', `Bearer ${typeof token === 'string' ? token : await token()}`);
        return request;
      },
    });
  }
  return client;
}
