// A start's completion callback (src/core/callbacks.ts): the caller's Gatehouse-Callback-URL,
// checked against callbacks.receivers for this route and this caller's groups before anything
// starts, else the route's default (checked when the config was loaded). What comes out, the URL
// and its receiver, is written into the memo of the job's own start, so the callback is held by
// Temporal exactly when the job is, and a refused URL starts nothing.
import type { CallbackMemo } from '../../core/callbacks.js';
import type { Identity } from '../../core/identity.js';
import { compileReceivers } from '../../config/callbacks.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError } from '../errors.js';

export const callbackHeader = 'gatehouse-callback-url';

export interface JobCallbacks {
  /** The callback of `caller`'s start on `route`; throws the 400, 403 or 422 that refuses a requested URL. */
  resolve(route: string, caller: Pick<Identity, 'groups'>, requested: string | undefined): CallbackMemo | undefined;
}

export function jobCallbacks(config: GatehouseConfig): JobCallbacks {
  const { receivers } = compileReceivers(config.callbacks.receivers);
  const queue = config.callbacks.taskQueue === undefined ? {} : { taskQueue: config.callbacks.taskQueue };
  // Route defaults, normalized as a requested URL would be (the loader refused any no receiver allows).
  const defaults = new Map<string, CallbackMemo>();
  for (const [name, route] of Object.entries(config.routes)) {
    const check = route.callback === undefined ? undefined : receivers.check(route.callback, { route: name });
    if (check?.ok) defaults.set(name, { url: check.url, origin: 'route', receiver: check.receiver, ...queue });
  }
  return {
    resolve(route, caller, requested) {
      if (requested === undefined) return defaults.get(route);
      const check = receivers.check(requested, { route, groups: caller.groups });
      if (check.ok) return { url: check.url, origin: 'header', receiver: check.receiver, ...queue };
      if (check.reason === 'invalid')
        throw new GatehouseError('GATEHOUSE_CALLBACK_URL_INVALID', `Gatehouse-Callback-URL: ${check.detail}`);
      if (check.reason === 'forbidden') throw new GatehouseError('GATEHOUSE_CALLBACK_FORBIDDEN', check.detail);
      throw new GatehouseError(
        'GATEHOUSE_CALLBACK_NOT_ALLOWED',
        receivers.enabled ? check.detail : 'This deployment takes no callbacks (callbacks.receivers is empty)',
      );
    },
  };
}
