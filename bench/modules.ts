// The scenario modules of bench/scenarios/ that run after the bridge's own scenarios, or alone
// with BENCH_ONLY: each measures against a baseline of its own in the same run, keeps its figures
// under `scenarios.<name>` of the record and gives its rows for the targets table. A new module
// adds its name to `moduleNames`, what it needs to ModuleContext, and a block to runModules.
import type { Client } from '@temporalio/client';
import type { BenchContext } from './context.js';
import { measurePeer, peerTargets, type PeerContext } from './scenarios/peer.js';
import { measurePeople, peopleTargets, type PeopleContext } from './scenarios/people.js';
import { measureWorkers, workerTargets, type WorkersResult } from './scenarios/workers.js';
import type { TargetRow } from './targets.js';

/** The names BENCH_ONLY takes. */
export const moduleNames = ['workers', 'peer', 'people'] as const;

/** What the scenario modules are given of the run. */
interface ModuleContext {
  client: Client;
  temporalAddress: string;
  dir: string;
  peer: PeerContext;
  people: PeopleContext;
}

function moduleContext(bench: BenchContext): ModuleContext {
  const { n, rounds } = bench.knobs;
  return {
    client: bench.client,
    temporalAddress: bench.temporal.address,
    dir: bench.dir,
    peer: {
      temporalHttp: bench.temporal.httpAddress,
      temporalPid: bench.temporal.process.pid!,
      bridgeUrl: bench.bridge.url,
      bridgePid: bench.bridge.pid,
      ...(bench.edge === undefined ? {} : { edge: { url: bench.edge.url, pids: bench.edge.workerPids } }),
      edgeEnv: bench.edgeEnv,
      token: bench.token,
      query: bench.query,
      rounds,
      starts: n(1000),
      reads: n(1500),
      say: bench.report.say,
      note: bench.report.note,
    },
    people: {
      dir: bench.dir,
      rounds,
      requests: n(5000, 1000),
      refreshes: n(50, 10),
      visits: n(10, 3),
      query: bench.query,
      startBridge: (env) => bench.startBridge(env),
      say: bench.report.say,
      note: bench.report.note,
    },
  };
}

/** Runs the modules this run includes (all, or BENCH_ONLY's), in order; their rows for the table. */
export async function runModules(bench: BenchContext): Promise<TargetRow[]> {
  const ctx = moduleContext(bench);
  const { record, save, say, note } = bench.report;
  const { only, rounds, scale } = bench.knobs;
  const runs = (module: (typeof moduleNames)[number]) => only.length === 0 || only.includes(module);
  const rows: TargetRow[] = [];
  if (runs('peer')) {
    bench.phase = 'peer';
    say(
      "peer: the same workflow started and read through Temporal's HTTP API, bare and behind HAProxy, and through Gatehouse",
    );
    try {
      const peer = await measurePeer(ctx.peer);
      record.scenarios.peer = peer;
      save();
      rows.push(...peerTargets(peer));
    } catch (error) {
      note(`peer: not measured: ${String(error)}`);
    }
  }
  if (runs('workers')) {
    bench.phase = 'workers';
    say('workers: each queue worker as production runs it, next to a minimal SDK worker (the floor)');
    const workers: WorkersResult = await measureWorkers({
      client: ctx.client,
      temporalAddress: ctx.temporalAddress,
      dir: ctx.dir,
      rounds,
      loadMs: Math.max(10_000, Math.round(30_000 * scale)),
      say,
      note,
    });
    record.scenarios.workers = workers;
    save();
    rows.push(...workerTargets(workers));
  }
  if (runs('people')) {
    bench.phase = 'people';
    say(
      'people: browser sign-in at the edge: a session cookie against a bearer token, the refresh, the console in Chromium',
    );
    try {
      const people = await measurePeople(ctx.people);
      record.scenarios.people = people;
      save();
      rows.push(...peopleTargets(people));
    } catch (error) {
      note(`people: not measured: ${String(error)}`);
    }
  }
  return rows;
}
