// A config overlay merges into the parsed file before the environment, the defaults and the checks:
// mappings merge, arrays and scalars replace, and what it sets is checked as the file would be.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-config.js';
import { mergeOverlay } from '../../../src/config/overlay.js';
import { configScratch, minimalConfig } from '../../helpers/config-files.js';

const { dir, load } = configScratch('gatehouse-overlay-');

describe('mergeOverlay', () => {
  it('merges mappings key by key, replaces arrays and scalars, and keeps what the overlay leaves undefined', () => {
    const file = { a: { b: 1, c: [1, 2], d: { e: 'x' } }, f: 'keep', g: [{ h: 1 }] };
    const merged = mergeOverlay(file, { a: { c: [3], d: { i: 'y' } }, f: undefined, g: [{ j: 2 }], k: 'new' });
    expect(merged).toEqual({ a: { b: 1, c: [3], d: { e: 'x', i: 'y' } }, f: 'keep', g: [{ j: 2 }], k: 'new' });
  });

  it('removes what null names, at any depth', () => {
    const merged = mergeOverlay({ a: { b: 1, c: 2 }, d: 3 }, { a: { b: null }, d: null, e: null });
    expect(merged).toEqual({ a: { c: 2 } });
  });

  it('changes neither the file nor the overlay, and shares no object with the overlay', () => {
    const file = { a: { b: 1 } };
    const overlay = { a: { c: [1] } };
    const merged = mergeOverlay(file, overlay) as unknown as { a: { c: number[] } };
    merged.a.c.push(2);
    expect(file).toEqual({ a: { b: 1 } });
    expect(overlay).toEqual({ a: { c: [1] } });
  });

  it('ignores keys that name the prototype', () => {
    const merged = mergeOverlay({}, JSON.parse('{"__proto__": {"polluted": true}}') as object);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(merged)).toEqual([]);
  });
});

describe('loadConfig with an overlay', () => {
  it("fills the schema's defaults inside what the overlay adds", () => {
    const config = load(
      minimalConfig(),
      {},
      {
        taskQueues: ['q1', 'q2'],
        routes: {
          other: {
            workflowType: 'policyCheck',
            taskQueue: 'q2',
            access: { anyAuthenticated: true },
            input: { type: 'object' },
          },
        },
      },
    );
    expect(config.taskQueues).toEqual(['q1', 'q2']);
    expect(config.routes.other?.idempotency.required).toBe(false);
    expect(config.routes.other?.access.groups).toEqual([]);
    expect(config.routes['policy-check']?.taskQueue).toBe('q1');
  });

  it('fails as a bad file does, naming the file and the path', () => {
    let problems: string[] = [];
    try {
      load(minimalConfig(), {}, { routes: { 'policy-check': { taskQueue: 'nowhere' } } });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(dir);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual(['/routes/policy-check/taskQueue: "nowhere" is not one of /taskQueues (q1)']);
  });

  it('removes an optional section the file has', () => {
    const file = minimalConfig().replace(
      'policy: { policies: p.cedar }',
      'policy: { policies: p.cedar, schema: p.cedarschema }',
    );
    expect(() => load(file)).toThrow(ConfigError);
    expect(load(file, {}, { policy: { schema: null } }).policy.schema).toBeUndefined();
  });

  it('lies under the environment overrides', () => {
    const config = load(minimalConfig(), { TEMPORAL_ADDRESS: 'env:7233' }, { temporal: { address: 'overlay:7233' } });
    expect(config.temporal.address).toBe('env:7233');
  });
});
