// The behaviour every delivery log store must have (the DeliveryLog interface in
// src/core/deliveries.ts), as one suite that the memory and PostgreSQL tests both run. `open` must
// return an empty log, ready for use, each time; the suite closes every log it opened.
import { afterEach, describe, expect, it } from 'vitest';
import {
  deliveryRecord as newRecord,
  newDeliveryRecordId,
  type DeliveryLog,
  type DeliveryLogCaps,
  type DeliveryQuery,
  type DeliveryRecord,
} from '../../src/core/deliveries.js';
import type { GitEvent } from '../../src/core/git-event.js';

const t0 = Date.parse('2030-01-01T00:00:00.000Z');

/** The same maximum for records and for samples. */
export const caps = (most: number): DeliveryLogCaps => ({ records: most, samples: most });

/** A body hash of its own for each number. */
export const bodyHash = (n: number) => n.toString(16).padStart(64, 'b');

/**
 * A record received `second` seconds after t0; its id is time-ordered accordingly. By default a
 * verified delivery from the provider (it has a body hash, its own), the kind `seen` counts.
 */
export function deliveryRecord(second: number, fields: Partial<DeliveryRecord> = {}): DeliveryRecord {
  const at = new Date(t0 + second * 1000);
  const random = (second * 7919 + 12345).toString(16).padStart(12, '0').slice(-12);
  return newRecord({
    id: newDeliveryRecordId(at, random),
    receivedAt: at.toISOString(),
    provider: 'github',
    hook: 'main',
    deliveryId: `gh-${second}`,
    event: 'push',
    repository: 'acme/api',
    outcome: 'accepted',
    status: 202,
    jobId: `ci.${second}`,
    route: 'ci',
    bodySha256: bodyHash(second),
    origin: 'provider',
    ...fields,
  });
}

const gitEvent: GitEvent = {
  provider: 'github',
  hook: 'main',
  deliveryId: 'gh-full',
  event: 'pull_request',
  kind: 'pull_request',
  action: 'opened',
  repository: { fullName: 'acme/api', cloneUrl: 'https://git.example/acme/api.git', htmlUrl: 'https://x/acme/api' },
  ref: 'refs/pull/7/head',
  before: '0'.repeat(40),
  after: 'a'.repeat(40),
  pullRequest: { number: 7, title: 'Fix "quotes" and ünïcödé', sourceBranch: 'fix', targetBranch: 'main' },
  sender: { login: 'alice', id: '42', name: 'Alice' },
};

/** Every field set, the JSON ones nested. */
export function fullDeliveryRecord(second: number): DeliveryRecord {
  return deliveryRecord(second, {
    deliveryId: 'gh-full',
    event: 'pull_request',
    outcome: 'duplicate',
    reason: 'same_body',
    detail: 'line one\nline two',
    status: 200,
    jobId: 'ci.acme-api.7',
    runId: '0190c4f3-aaaa-7bbb-8ccc-123456789abc',
    route: 'ci',
    bodySha256: 'f'.repeat(64),
    bodyBytes: 12_345,
    origin: 'replay',
    replayOf: deliveryRecord(1).id,
    requestedBy: 'jwt:https://idp#root',
    sample: { headers: { 'user-agent': 'GitHub-Hookshot/1', 'x-github-event': 'push' }, clientAddress: '10.0.0.7' },
    // A copy: tests change the records they are given.
    gitEvent: structuredClone(gitEvent),
  });
}

const ids = (records: readonly DeliveryRecord[]) => records.map((r) => r.id);
/** Ids newest first, as list returns them. */
const newestFirst = (records: readonly DeliveryRecord[]) => ids(records).sort().reverse();

export function deliveryLogContract(name: string, open: () => Promise<DeliveryLog>): void {
  describe(`delivery log contract: ${name}`, () => {
    const opened: DeliveryLog[] = [];
    const fresh = async () => {
      const log = await open();
      opened.push(log);
      return log;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((log) => log.close()));
    });

    it('reads an empty log as empty', async () => {
      const log = await fresh();
      expect(await log.list({ limit: 50 })).toEqual([]);
      expect(await log.list({ provider: 'github', before: deliveryRecord(5).id, limit: 10 })).toEqual([]);
      expect(await log.get(deliveryRecord(1).id)).toBeUndefined();
      expect(await log.seen('github', 'main', ['gh-1'])).toEqual(new Set());
      expect(await log.prune(new Date(t0 + 1e9), caps(0))).toBe(0);
    });

    it('gives back every field of an appended record, JSON fields included, and nulls as nulls', async () => {
      const log = await fresh();
      const full = fullDeliveryRecord(10);
      const sparse = deliveryRecord(11, {
        deliveryId: null,
        event: null,
        repository: null,
        outcome: 'rejected',
        reason: 'bad_signature',
        status: null,
        jobId: null,
        route: null,
        origin: 'reconciler',
      });
      // A timestamp without milliseconds and with an offset reads back as the same text.
      const otherClock = deliveryRecord(12, { receivedAt: '2030-01-01T01:00:12+01:00' });
      await log.append([full, sparse, otherClock]);
      expect(await log.get(full.id)).toEqual(full);
      expect(await log.get(sparse.id)).toEqual(sparse);
      expect(await log.get(otherClock.id)).toEqual(otherClock);
      expect(await log.list({ limit: 10 })).toEqual([otherClock, sparse, full]);
    });

    it('keeps the first record of an id and ignores later ones, in one batch or another', async () => {
      const log = await fresh();
      const first = deliveryRecord(1);
      await log.append([first, { ...first, outcome: 'rejected', jobId: null }]);
      await log.append([{ ...first, outcome: 'ignored', reason: 'ping' }]);
      expect(await log.get(first.id)).toEqual(first);
      expect(await log.list({ limit: 10 })).toEqual([first]);
    });

    it('keeps the store apart from the objects callers hold', async () => {
      const log = await fresh();
      const record = fullDeliveryRecord(1);
      const kept = structuredClone(record);
      await log.append([record]);
      record.outcome = 'rejected';
      record.gitEvent!.repository.fullName = 'evil/repo';
      const read = (await log.get(kept.id))!;
      read.sample!.headers['x-injected'] = 'yes';
      (await log.list({ limit: 1 }))[0]!.gitEvent!.sender.login = 'mallory';
      expect(await log.get(kept.id)).toEqual(kept);
    });

    it('lists newest first whatever order the records arrived in', async () => {
      const log = await fresh();
      const records = [5, 1, 9, 3, 7, 2, 8].map((s) => deliveryRecord(s));
      await log.append(records.slice(0, 3));
      await log.append(records.slice(3));
      const listed = await log.list({ limit: 100 });
      expect(ids(listed)).toEqual(newestFirst(records));
      expect(listed.map((r) => r.receivedAt)).toEqual([...listed.map((r) => r.receivedAt)].sort().reverse());
    });

    describe('filters', () => {
      const records = [
        deliveryRecord(1, { provider: 'github', hook: 'main', repository: 'acme/api', deliveryId: 'a' }),
        deliveryRecord(2, { provider: 'gitlab', hook: 'main', repository: 'acme/api', deliveryId: 'b' }),
        deliveryRecord(3, { provider: 'github', hook: 'other', repository: 'acme/web', deliveryId: 'a' }),
        deliveryRecord(4, {
          provider: 'github',
          hook: 'main',
          repository: 'acme/api',
          deliveryId: 'c',
          outcome: 'rejected',
          reason: 'bad_signature',
        }),
        deliveryRecord(5, { provider: 'github', hook: 'main', repository: null, deliveryId: null, outcome: 'ignored' }),
        deliveryRecord(6, { provider: 'gitlab', hook: 'other', repository: 'acme/api', deliveryId: 'a' }),
        deliveryRecord(7, { provider: 'github', hook: 'main', repository: 'acme/ap', deliveryId: 'A' }),
      ];
      const expected = (keep: (r: DeliveryRecord) => boolean) => newestFirst(records.filter(keep));

      it.each<[string, Omit<DeliveryQuery, 'limit'>, (r: DeliveryRecord) => boolean]>([
        ['provider', { provider: 'gitlab' }, (r) => r.provider === 'gitlab'],
        ['hook', { hook: 'other' }, (r) => r.hook === 'other'],
        ['outcome', { outcome: 'rejected' }, (r) => r.outcome === 'rejected'],
        ['repository (exact, not a prefix)', { repository: 'acme/ap' }, (r) => r.repository === 'acme/ap'],
        ['deliveryId (exact, case-sensitive)', { deliveryId: 'a' }, (r) => r.deliveryId === 'a'],
        [
          'provider and hook and deliveryId',
          { provider: 'github', hook: 'main', deliveryId: 'a' },
          (r) => r.provider === 'github' && r.hook === 'main' && r.deliveryId === 'a',
        ],
        [
          'provider and outcome and repository',
          { provider: 'github', outcome: 'accepted', repository: 'acme/api' },
          (r) => r.provider === 'github' && r.outcome === 'accepted' && r.repository === 'acme/api',
        ],
        [
          'since and before and repository',
          { since: deliveryRecord(2).receivedAt, before: records[5]!.id, repository: 'acme/api' },
          (r) => r.receivedAt >= deliveryRecord(2).receivedAt && r.id < records[5]!.id && r.repository === 'acme/api',
        ],
        ['a value nobody has', { repository: 'nobody/none' }, () => false],
      ])('by %s', async (_, filter, keep) => {
        const log = await fresh();
        await log.append(records);
        const found = await log.list({ ...filter, limit: 100 });
        expect(ids(found)).toEqual(expected(keep));
      });

      it('since is inclusive and compares instants, not text', async () => {
        const log = await fresh();
        await log.append(records);
        const at3 = deliveryRecord(3).receivedAt;
        expect(ids(await log.list({ since: at3, limit: 100 }))).toEqual(expected((r) => r.receivedAt >= at3));
        // The same instant as record 3's, written in another zone and without milliseconds.
        const sameInstant = '2030-01-01T02:00:03+02:00';
        expect(Date.parse(sameInstant)).toBe(Date.parse(at3));
        expect(ids(await log.list({ since: sameInstant, limit: 100 }))).toEqual(expected((r) => r.receivedAt >= at3));
        expect(await log.list({ since: '2100-01-01T00:00:00Z', limit: 100 })).toEqual([]);
      });

      it('refuses a since that is not a date and a negative or fractional limit', async () => {
        const log = await fresh();
        await log.append(records);
        await expect(log.list({ since: 'yesterday', limit: 10 })).rejects.toThrow(RangeError);
        await expect(log.list({ limit: -1 })).rejects.toThrow(RangeError);
        await expect(log.list({ limit: 1.5 })).rejects.toThrow(RangeError);
        expect(await log.list({ limit: 0 })).toEqual([]);
      });
    });

    it('stops at the limit, keeping the newest', async () => {
      const log = await fresh();
      const records = Array.from({ length: 12 }, (_, i) => deliveryRecord(i));
      await log.append(records);
      expect(ids(await log.list({ limit: 3 }))).toEqual(newestFirst(records).slice(0, 3));
      expect(ids(await log.list({ limit: 12 }))).toEqual(newestFirst(records));
      expect(ids(await log.list({ limit: 1000 }))).toEqual(newestFirst(records));
    });

    it('pages with before through every record once, without gaps or repeats, filtered or not', async () => {
      const log = await fresh();
      const records = Array.from({ length: 23 }, (_, i) =>
        deliveryRecord(i, { outcome: i % 3 === 0 ? 'rejected' : 'accepted' }),
      );
      // Appended in three out-of-order batches.
      await log.append(records.filter((_, i) => i % 2 === 1));
      await log.append(records.filter((_, i) => i % 2 === 0 && i > 10));
      await log.append(records.filter((_, i) => i % 2 === 0 && i <= 10));

      const pageAll = async (query: Omit<DeliveryQuery, 'limit' | 'before'>) => {
        const seenIds: string[] = [];
        const pageSizes: number[] = [];
        let before: string | undefined;
        for (;;) {
          const page = await log.list({ ...query, limit: 5, ...(before === undefined ? {} : { before }) });
          pageSizes.push(page.length);
          seenIds.push(...ids(page));
          if (page.length < 5) return { seenIds, pageSizes };
          before = page.at(-1)!.id;
        }
      };
      const all = await pageAll({});
      expect(all.seenIds).toEqual(newestFirst(records));
      expect(all.pageSizes).toEqual([5, 5, 5, 5, 3]);
      const rejected = await pageAll({ outcome: 'rejected' });
      expect(rejected.seenIds).toEqual(newestFirst(records.filter((r) => r.outcome === 'rejected')));
      expect(rejected.pageSizes).toEqual([5, 3]);
      // `before` need not be an id the log holds.
      const between = `${records[10]!.id}~`;
      expect(ids(await log.list({ before: between, limit: 2 }))).toEqual([records[10]!.id, records[9]!.id]);
    });

    it("answers seen from this hook's records only", async () => {
      const log = await fresh();
      await log.append([
        deliveryRecord(1, { provider: 'github', hook: 'main', deliveryId: 'x1' }),
        deliveryRecord(2, { provider: 'github', hook: 'main', deliveryId: 'x2', outcome: 'rejected' }),
        deliveryRecord(3, { provider: 'github', hook: 'main', deliveryId: 'x2', outcome: 'duplicate' }),
        deliveryRecord(4, { provider: 'github', hook: 'other', deliveryId: 'x3' }),
        deliveryRecord(5, { provider: 'gitlab', hook: 'main', deliveryId: 'x4' }),
        deliveryRecord(6, { provider: 'github', hook: 'main', deliveryId: null }),
      ]);
      expect(await log.seen('github', 'main', ['x1', 'x2', 'x3', 'x4', 'x5'])).toEqual(new Set(['x1', 'x2']));
      expect(await log.seen('github', 'other', ['x1', 'x3'])).toEqual(new Set(['x3']));
      expect(await log.seen('gitlab', 'main', ['x1', 'x4'])).toEqual(new Set(['x4']));
      expect(await log.seen('gitea', 'main', ['x1'])).toEqual(new Set());
      expect(await log.seen('github', 'main', [])).toEqual(new Set());
    });

    it('counts as seen only verified deliveries from the provider, not reconciler records or samples', async () => {
      const log = await fresh();
      const requested = { origin: 'reconciler', outcome: 'redelivery_requested', status: null, jobId: null } as const;
      await log.append([
        // The reconciler asked for v1 before it arrived (verified) at second 4.
        deliveryRecord(0, { ...requested, deliveryId: 'v1', bodySha256: null }),
        deliveryRecord(1, { ...requested, deliveryId: 'r1', bodySha256: null }),
        // An unauthenticated request naming a delivery id: a sample, with no body hash.
        deliveryRecord(2, {
          deliveryId: 's1',
          outcome: 'rejected',
          reason: 'bad_signature',
          status: 401,
          jobId: null,
          bodySha256: null,
          sample: { headers: { 'x-github-delivery': 's1' }, clientAddress: '203.0.113.9' },
        }),
        // A replay is the bridge's own doing, not the provider's delivery.
        deliveryRecord(3, { deliveryId: 'p1', origin: 'replay', replayOf: deliveryRecord(0).id }),
        deliveryRecord(4, { deliveryId: 'v1' }),
        deliveryRecord(5, { deliveryId: 'v2', outcome: 'duplicate' }),
      ]);
      expect(await log.seen('github', 'main', ['v1', 'r1', 's1', 'p1', 'v2'])).toEqual(new Set(['v1', 'v2']));
      // Pruning the reconciler's record of v1 leaves the delivery seen; pruning the delivery does not.
      expect(await log.prune(new Date(deliveryRecord(1).receivedAt), caps(1000))).toBe(1);
      expect(await log.seen('github', 'main', ['v1', 'r1'])).toEqual(new Set(['v1']));
      expect(await log.prune(new Date(deliveryRecord(5).receivedAt), caps(1000))).toBe(4);
      expect(await log.seen('github', 'main', ['v1', 'v2'])).toEqual(new Set(['v2']));
    });

    it('counts as seen only the first verified record of a body; copies under other ids are not seen', async () => {
      const log = await fresh();
      const body = bodyHash(900);
      const sample = { headers: { 'x-github-event': 'evt' }, clientAddress: '203.0.113.9' };
      await log.append([
        // The provider's delivery of the body, then the same signed body sent again by someone
        // holding it, under delivery ids of their choosing: in full (another replica, or after a
        // restart, kept it whole) and as samples.
        deliveryRecord(3, { deliveryId: 'copy-1', bodySha256: body, outcome: 'ignored', reason: 'event' }),
        deliveryRecord(1, { deliveryId: 'real', bodySha256: body }),
        deliveryRecord(2, { deliveryId: 'copy-2', bodySha256: body, outcome: 'rejected', reason: 'malformed', sample }),
        deliveryRecord(4, { deliveryId: 'copy-3', bodySha256: body, outcome: 'duplicate', sample }),
        // The same body to another hook is that hook's first.
        deliveryRecord(5, { deliveryId: 'other-hook', bodySha256: body, hook: 'other' }),
        // A sample alone never counts, even as the only record of its body.
        deliveryRecord(6, { deliveryId: 'lone-sample', bodySha256: bodyHash(901), sample }),
      ]);
      const asked = ['real', 'copy-1', 'copy-2', 'copy-3', 'other-hook', 'lone-sample'];
      expect(await log.seen('github', 'main', asked)).toEqual(new Set(['real']));
      expect(await log.seen('github', 'other', asked)).toEqual(new Set(['other-hook']));
      // A record arriving late with a lower id than the first takes its place.
      await log.append([deliveryRecord(0, { deliveryId: 'earlier', bodySha256: body })]);
      expect(await log.seen('github', 'main', asked.concat('earlier'))).toEqual(new Set(['earlier']));
      // Once the first records of the body are pruned, the oldest verified one left counts.
      expect(await log.prune(new Date(deliveryRecord(2).receivedAt), caps(1000))).toBe(2);
      expect(await log.seen('github', 'main', asked.concat('earlier'))).toEqual(new Set(['copy-1']));
    });

    it('keeps samples under a maximum of their own, so a flood of them never pushes out a record', async () => {
      const log = await fresh();
      const sample = { headers: { 'x-github-event': 'push' }, clientAddress: '203.0.113.9' };
      const records = Array.from({ length: 4 }, (_, i) => deliveryRecord(i));
      const samples = Array.from({ length: 12 }, (_, i) =>
        deliveryRecord(10 + i, { outcome: 'rejected', reason: 'bad_signature', bodySha256: null, sample }),
      );
      await log.append([...records, ...samples]);
      // Records beyond 3 and samples beyond 5, each counted apart: 1 + 7 go.
      expect(await log.prune(new Date(t0), { records: 3, samples: 5 })).toBe(8);
      expect(ids(await log.list({ limit: 100 }))).toEqual(newestFirst([...records.slice(1), ...samples.slice(7)]));
      // A small sample maximum leaves the records alone.
      expect(await log.prune(new Date(t0), { records: 3, samples: 0 })).toBe(5);
      expect(ids(await log.list({ limit: 100 }))).toEqual(newestFirst(records.slice(1)));
      await expect(log.prune(new Date(t0), { records: 3, samples: -1 })).rejects.toThrow(RangeError);
    });

    it('stores strings with NUL and lone surrogates made well formed, in text and JSON fields alike', async () => {
      const log = await fresh();
      const full = fullDeliveryRecord(20);
      const good = deliveryRecord(21);
      const hostile: DeliveryRecord = {
        ...full,
        origin: 'provider',
        replayOf: null,
        deliveryId: 'gh-\u0000nul',
        repository: 'acme/\uD800api',
        // A NUL between the halves of a pair: removing it leaves the pair (an emoji) whole.
        detail: 'a\u0000b \uDC00 c \u{1F600} \uD83D\u0000\uDE00',
        sample: { headers: { 'x-evil\u0000': 'v\uDBFF', ok: 'fine' }, clientAddress: '10.0.0.7' },
        gitEvent: {
          ...full.gitEvent!,
          pullRequest: { number: 7, title: 'Fix \u0000\uD83D thing \u{1F600}' },
          sender: { login: 'mallory', name: '\uDE00Mallory\u0000' },
        },
      };
      const expected: DeliveryRecord = {
        ...hostile,
        deliveryId: 'gh-nul',
        repository: 'acme/\uFFFDapi',
        detail: 'ab \uFFFD c \u{1F600} \u{1F600}',
        sample: { headers: { 'x-evil': 'v\uFFFD', ok: 'fine' }, clientAddress: '10.0.0.7' },
        gitEvent: {
          ...hostile.gitEvent!,
          pullRequest: { number: 7, title: 'Fix \uFFFD thing \u{1F600}' },
          sender: { login: 'mallory', name: '\uFFFDMallory' },
        },
      };

      await log.append([good, hostile]);
      expect(await log.get(hostile.id)).toEqual(expected);
      expect(await log.list({ limit: 10 })).toEqual([good, expected]);
      // Queries are read the same way, so the raw text finds what was stored.
      expect(await log.list({ repository: hostile.repository!, limit: 10 })).toEqual([expected]);
      expect(await log.list({ repository: expected.repository!, limit: 10 })).toEqual([expected]);
      // The hostile record is a sample, which seen never counts: a plain record with a NUL in its id.
      await log.append([deliveryRecord(22, { deliveryId: 'gh-\u0000seen' })]);
      expect(await log.seen('github', 'main', ['gh-\u0000seen', hostile.deliveryId!, 'gh-21'])).toEqual(
        new Set(['gh-\u0000seen', 'gh-21']),
      );
    });

    it('prunes by age, returning how many went, and forgets what it pruned', async () => {
      const log = await fresh();
      const records = Array.from({ length: 10 }, (_, i) => deliveryRecord(i, { deliveryId: `p${i}` }));
      await log.append(records);
      // Strictly older than second 4 goes; second 4 itself stays.
      expect(await log.prune(new Date(t0 + 4000), caps(1000))).toBe(4);
      expect(ids(await log.list({ limit: 100 }))).toEqual(newestFirst(records.slice(4)));
      expect(await log.get(records[3]!.id)).toBeUndefined();
      expect(await log.seen('github', 'main', ['p3', 'p4'])).toEqual(new Set(['p4']));
      expect(await log.prune(new Date(t0 + 4000), caps(1000))).toBe(0);
    });

    it('prunes by count, keeping the newest, and by both at once', async () => {
      const log = await fresh();
      // Appended newest first, so arrival order is not id order.
      const records = Array.from({ length: 10 }, (_, i) => deliveryRecord(i)).reverse();
      await log.append(records);
      expect(await log.prune(new Date(t0), caps(6))).toBe(4);
      expect(ids(await log.list({ limit: 100 }))).toEqual(newestFirst(records).slice(0, 6));
      // Age first (seconds 4 and 5 go), then the oldest beyond 3 of what is left (6).
      expect(await log.prune(new Date(t0 + 6000), caps(3))).toBe(3);
      expect(ids(await log.list({ limit: 100 }))).toEqual(newestFirst(records).slice(0, 3));
      expect(await log.prune(new Date(t0), caps(0))).toBe(3);
      expect(await log.list({ limit: 100 })).toEqual([]);
      // Appending after pruning everything works as on a new log.
      const late = deliveryRecord(50);
      await log.append([late]);
      expect(await log.list({ limit: 100 })).toEqual([late]);
    });

    it('refuses a receivedAt that is not a date, leaving the log unchanged', async () => {
      const log = await fresh();
      await expect(log.append([deliveryRecord(1), deliveryRecord(2, { receivedAt: 'soon' })])).rejects.toThrow(
        RangeError,
      );
      expect(await log.list({ limit: 10 })).toEqual([]);
    });

    it('closes once, and refuses to be used after that', async () => {
      const log = await open();
      await log.close();
      await log.close();
      await expect(log.list({ limit: 1 })).rejects.toThrow();
      await expect(log.append([deliveryRecord(1)])).rejects.toThrow();
    });
  });
}
