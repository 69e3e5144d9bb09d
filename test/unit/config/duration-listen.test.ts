import { describe, expect, it } from 'vitest';
import { durationMs } from '../../../src/config/duration.js';
import { parseListen } from '../../../src/config/listen.js';

describe('durationMs', () => {
  it('converts each unit', () => {
    expect([durationMs('250ms'), durationMs('30s'), durationMs('10m'), durationMs('2h'), durationMs('1d')]).toEqual([
      250, 30_000, 600_000, 7_200_000, 86_400_000,
    ]);
  });
  it('refuses anything else', () => {
    for (const bad of ['', '10', '1.5s', '-1s', '1 s', '1w']) expect(() => durationMs(bad)).toThrow(RangeError);
  });
});

describe('parseListen', () => {
  it('splits host and port, IPv6 in brackets', () => {
    expect(parseListen('0.0.0.0:8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });
  it('refuses a missing or impossible port', () => {
    for (const bad of ['localhost', 'host:99999', ':']) expect(() => parseListen(bad)).toThrow(RangeError);
  });
});
