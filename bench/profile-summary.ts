// Summarizes a V8 .cpuprofile (from BENCH_BRIDGE_NODE_ARGS="--cpu-prof ...") by self time, grouped
// by package or project folder, to say where a scenario's time goes.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const selfMs = new Map<number, number>();
profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
const byGroup = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const ms = selfMs.get(node.id) ?? 0;
  total += ms;
  const url = node.callFrame.url;
  const group =
    url === ''
      ? `(${node.callFrame.functionName || 'native'})`
      : (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
        (url.startsWith('node:') ? 'node core' : url.replace(/^.*\/dist\//, 'gatehouse: ').replace(/\/[^/]+$/, '')));
  byGroup.set(group, (byGroup.get(group) ?? 0) + ms);
  const fn = `${node.callFrame.functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '')}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
}
const top = (map: Map<string, number>, count: number) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => `${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
console.log(
  `total ${(total / 1000).toFixed(1)} s sampled\n\nby package:\n${top(byGroup, 12)}\n\nby function:\n${top(byFunction, 15)}`,
);
