// Whether dist/ (npm run build: the compiled code and the workers' workflow bundles) is at least
// as new as the TypeScript it comes from. The dev stack runs its workers compiled, as production
// does, and builds first when the build is missing or stale; the compiled worker's test refuses a
// stale build rather than test old code.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Written last by `npm run build`, so its time is the build's. */
const lastArtifact = 'dist/workflow-bundles/workflows.js';
const sourceDirs = ['src', 'workflows', 'activities'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Why the build in `root` cannot be used, or undefined when it is fresh. */
export function staleBuild(root = process.cwd()): string | undefined {
  const built = statSync(resolve(root, lastArtifact), { throwIfNoEntry: false });
  if (built === undefined) return `${lastArtifact} is missing`;
  const sources = Math.max(...sourceDirs.map((dir) => newestSource(resolve(root, dir))));
  return built.mtimeMs < sources ? `${lastArtifact} is older than the sources` : undefined;
}

/** Runs `npm run build` in `root` unless the build is fresh. */
export async function ensureBuild(root = process.cwd(), say: (line: string) => void = () => {}): Promise<void> {
  const reason = staleBuild(root);
  if (reason === undefined) return;
  say(`building (npm run build): ${reason}`);
  const child = spawn('npm', ['run', '-s', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((done, failed) => {
    child.once('error', failed);
    child.once('exit', done);
  });
  if (code !== 0) throw new Error(`npm run build failed (exit ${code})`);
}
