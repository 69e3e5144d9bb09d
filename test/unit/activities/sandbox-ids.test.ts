import { describe, expect, it } from 'vitest';
import { SandboxIds, SandboxIdsExhausted } from '../../../activities/sandbox-ids.js';

describe('SandboxIds', () => {
  it('gives each holder ids of its own from the range, and reuses a released one last', () => {
    const ids = new SandboxIds({ uid: 60000, gid: 61000, ids: 3 }, true);
    const a = ids.lease();
    const b = ids.lease();
    expect(a.ids).toEqual({ uid: 60000, gid: 61000 });
    expect(b.ids).toEqual({ uid: 60001, gid: 61001 });
    a.release();
    a.release();
    expect(ids.lease().ids).toEqual({ uid: 60002, gid: 61002 });
    expect(ids.lease().ids).toEqual({ uid: 60000, gid: 61000 });
    expect(() => ids.lease()).toThrow(SandboxIdsExhausted);
    b.release();
    expect(ids.lease().ids.uid).toBe(60001);
  });

  it('gives no ids where the worker cannot switch users', () => {
    const ids = new SandboxIds({ uid: 60000, gid: 60000, ids: 1 }, false);
    expect(ids.lease().ids).toEqual({});
    expect(ids.lease().ids).toEqual({});
  });
});
