// A config overlay: part of gatehouse.yaml's shape, merged into the parsed file before the
// environment overrides and the schema's defaults, so what it sets is filled in and checked exactly
// as if the file said it (a bad overlay fails as a bad file does). Tests and tools build their
// variants of a config this way instead of changing a config that has already been checked.
import type { GatehouseConfigFile } from './schema.js';

/**
 * Any part of the file: objects may leave out keys at every depth; an array is given whole; null
 * removes what the file says there.
 */
export type ConfigOverlay = DeepPartial<GatehouseConfigFile>;

type DeepPartial<T> =
  T extends ReadonlyArray<infer Item>
    ? Array<DeepPartial<Item>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> | null }
      : T;

/**
 * The file with the overlay merged in, as a new object: mappings merge key by key, anything else
 * (arrays, scalars) replaces what the file had; an undefined value leaves the file's, and null
 * removes it (a file cannot say null where the schema wants a value, so null means "not set").
 */
export function mergeOverlay<T extends object>(file: T, overlay: object): T {
  const merged = { ...file } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overlay)) {
    // A key that names the prototype would change every object rather than this one.
    if (value === undefined || key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    if (value === null) {
      delete merged[key];
      continue;
    }
    const current = merged[key];
    merged[key] = isMapping(value) && isMapping(current) ? mergeOverlay(current, value) : structuredClone(value);
  }
  return merged as T;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
