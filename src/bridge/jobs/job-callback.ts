// A start's completion callback (src/core/callbacks.ts): the caller's Gatehouse-Callback-URL,
// checked against callbacks.allow before anything starts, else the route's default (checked when
// the config was loaded). What comes out is written into the memo of the job's own start, so the
// callback is held by Temporal exactly when the job is, and a refused URL starts nothing.
import type { CallbackMemo } from '../../core/callbacks.js';
import { compileAllowList } from '../../config/callbacks.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError } from '../errors.js';

export const callbackHeader = 'gatehouse-callback-url';

export interface JobCallbacks {
  /** The callback of a start on `route`; throws the 400 or 422 that refuses a requested URL. */
  resolve(route: string, requested: string | undefined): CallbackMemo | undefined;
}

export function jobCallbacks(config: GatehouseConfig): JobCallbacks {
  const { allowList } = compileAllowList(config.callbacks.allow);
  const queue = config.callbacks.taskQueue === undefined ? {} : { taskQueue: config.callbacks.taskQueue };
  // Route defaults, normalized as a requested URL would be (the loader refused any the list does not allow).
  const defaults = new Map<string, string>();
  for (const [name, route] of Object.entries(config.routes)) {
    const check = route.callback === undefined ? undefined : allowList.check(route.callback);
    if (check?.ok) defaults.set(name, check.url);
  }
  return {
    resolve(route, requested) {
      if (requested === undefined) {
        const url = defaults.get(route);
        return url === undefined ? undefined : { url, origin: 'route', ...queue };
      }
      const check = allowList.check(requested);
      if (check.ok) return { url: check.url, origin: 'header', ...queue };
      if (check.reason === 'invalid')
        throw new GatehouseError('GATEHOUSE_CALLBACK_URL_INVALID', `Gatehouse-Callback-URL: ${check.detail}`);
      throw new GatehouseError(
        'GATEHOUSE_CALLBACK_NOT_ALLOWED',
        allowList.enabled ? check.detail : 'This deployment takes no callbacks (callbacks.allow is empty)',
      );
    },
  };
}
