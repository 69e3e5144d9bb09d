// The in-memory delivery log: the shared store contract, that it holds no more than its maximum
// between prunes, and that it stays quick at the configured maximum of 100,000 records (a page is
// a walk back from the newest, not a sort of everything).
import { describe, expect, it } from 'vitest';
import { createMemoryDeliveryLog } from '../../../src/deliveries/memory-log.js';
import { openDeliveryLog } from '../../../src/deliveries/open-delivery-log.js';
import { caps, deliveryLogContract, deliveryRecord } from '../../helpers/delivery-log-contract.js';

/** The config schema's defaults (webhooks.deliveryLog.maxEntries and maxSamples). */
const configured = { maxEntries: 100_000, maxSamples: 10_000 };

deliveryLogContract('memory', async () => createMemoryDeliveryLog(configured));

describe('memory delivery log', () => {
  it('is what openDeliveryLog gives without a url', async () => {
    const log = await openDeliveryLog(configured);
    expect(log.kind).toBe('memory');
    await log.close();
  });

  it('holds at most maxEntries, dropping the oldest on append, and forgets what it dropped', async () => {
    const log = createMemoryDeliveryLog({ ...configured, maxEntries: 5 });
    const records = Array.from({ length: 9 }, (_, i) => deliveryRecord(i, { deliveryId: `m${i}` }));
    const newest = (from: number, to: number) =>
      records
        .slice(from, to)
        .map((r) => r.id)
        .reverse();
    await log.append(records.slice(0, 4));
    expect((await log.list({ limit: 100 })).map((r) => r.id)).toEqual(newest(0, 4));
    // One batch past the maximum: the three oldest go.
    await log.append(records.slice(4, 8));
    expect((await log.list({ limit: 100 })).map((r) => r.id)).toEqual(newest(3, 8));
    expect(await log.get(records[2]!.id)).toBeUndefined();
    expect(await log.seen('github', 'main', ['m2', 'm3'])).toEqual(new Set(['m3']));
    // A late record older than everything held goes at once; a new one pushes out the oldest.
    await log.append([records[0]!]);
    expect((await log.list({ limit: 100 })).map((r) => r.id)).toEqual(newest(3, 8));
    await log.append([records[8]!]);
    expect((await log.list({ limit: 100 })).map((r) => r.id)).toEqual(newest(4, 9));
    // Dropped records are really gone: prune finds only what is held.
    expect(await log.prune(new Date(0), caps(0))).toBe(5);
    await log.close();
  });

  it('holds samples under maxSamples of their own: a flood of samples drops old samples, never a record', async () => {
    const log = createMemoryDeliveryLog({ maxEntries: 3, maxSamples: 4 });
    const sample = { headers: {}, clientAddress: '203.0.113.9' };
    const records = Array.from({ length: 3 }, (_, i) => deliveryRecord(i, { deliveryId: `r${i}` }));
    const samples = Array.from({ length: 50 }, (_, i) =>
      deliveryRecord(10 + i, { deliveryId: `s${i}`, outcome: 'rejected', bodySha256: null, sample }),
    );
    await log.append(records);
    for (const one of samples) await log.append([one]);
    const held = (await log.list({ limit: 100 })).map((r) => r.id);
    expect(held).toEqual([...records, ...samples.slice(-4)].map((r) => r.id).reverse());
    expect(await log.seen('github', 'main', ['r0', 'r1', 'r2'])).toEqual(new Set(['r0', 'r1', 'r2']));
    // Pages walk records and samples together, newest first.
    const firstPage = await log.list({ limit: 5 });
    const rest = await log.list({ limit: 5, before: firstPage.at(-1)!.id });
    expect([...firstPage, ...rest].map((r) => r.id)).toEqual(held);
    await log.close();
  });

  it('refuses a maximum that is not a whole number of at least 1', () => {
    for (const most of [0, -1, 1.5, Number.NaN]) {
      expect(() => createMemoryDeliveryLog({ ...configured, maxEntries: most })).toThrow(RangeError);
      expect(() => createMemoryDeliveryLog({ ...configured, maxSamples: most })).toThrow(RangeError);
    }
  });

  it('takes maxEntries from openDeliveryLog', async () => {
    const log = await openDeliveryLog({ ...configured, maxEntries: 2 });
    await log.append([deliveryRecord(1), deliveryRecord(2), deliveryRecord(3)]);
    expect((await log.list({ limit: 10 })).map((r) => r.id)).toEqual([deliveryRecord(3).id, deliveryRecord(2).id]);
    await log.close();
  });

  it('pages, filters and answers seen over 100,000 records', async () => {
    const log = createMemoryDeliveryLog(configured);
    const total = 100_000;
    const records = Array.from({ length: total }, (_, i) =>
      deliveryRecord(i, { outcome: i % 1000 === 0 ? 'rejected' : 'accepted', deliveryId: `d${i}` }),
    );
    // In order, in batches as the bridge writes them, except a few late arrivals at the end.
    const late = new Set([10, 50_000, 99_990]);
    for (let start = 0; start < total; start += 500)
      await log.append(records.slice(start, start + 500).filter((_, j) => !late.has(start + j)));
    await log.append([...late].map((i) => records[i]!));

    let before: string | undefined;
    const paged: string[] = [];
    for (let page = 0; page < 1000; page += 1) {
      const found = await log.list({ limit: 50, ...(before === undefined ? {} : { before }) });
      paged.push(...found.map((r) => r.id));
      before = found.at(-1)!.id;
    }
    const rejected = await log.list({ outcome: 'rejected', limit: 50 });
    const seen = await log.seen('github', 'main', ['d0', 'd10', 'd99999', 'd100000']);

    expect(paged).toHaveLength(50_000);
    expect(paged).toEqual(
      records
        .slice(total - 50_000)
        .map((r) => r.id)
        .reverse(),
    );
    expect(rejected.map((r) => r.id)).toEqual(
      records
        .filter((r) => r.outcome === 'rejected')
        .map((r) => r.id)
        .reverse()
        .slice(0, 50),
    );
    expect(seen).toEqual(new Set(['d0', 'd10', 'd99999']));
    expect(await log.prune(new Date(0), caps(100))).toBe(total - 100);
    expect((await log.list({ limit: 1000 })).map((r) => r.id)).toEqual(paged.slice(0, 100));
    await log.close();
  });
});
