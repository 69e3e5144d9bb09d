// The error registry is the one source of problem codes: the error table in docs/api.md (generated
// from it by `npm run docs`) lists exactly its codes with their statuses, and every problem body
// HAProxy answers on its own (haproxy.cfg holds them as literal JSON) is a registered problem with
// the registry's status, title and type.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorDefinitions, problemType, type ErrorCode } from '../../../src/bridge/errors.js';

const registry = errorDefinitions as Record<string, { status: number; title: string }>;

describe('the error registry', () => {
  it('is what docs/api.md documents, code by code and status by status', () => {
    const page = readFileSync('docs/api.md', 'utf8');
    const rows = [...page.matchAll(/^\| `(GATEHOUSE_[A-Z_]+)` \| (\d{3}) \|/gm)].map(([, code, status]) => [
      code,
      Number(status),
    ]);
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(Object.entries(registry).map(([code, d]) => [code, d.status])),
    );
  });

  it('matches every problem body the edge answers by itself', () => {
    const config = readFileSync('haproxy/haproxy.cfg', 'utf8');
    const lines = config.split('\n').filter((line) => line.includes('application/problem+json'));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const status = Number(/status (\d{3})/.exec(line)?.[1]);
      const body = /string '(\{.*?\})'/.exec(line)?.[1];
      expect(body, line).toBeDefined();
      const problem = JSON.parse(body!) as {
        type: string;
        title: string;
        status: number;
        code: ErrorCode;
        detail: string;
      };
      const definition = registry[problem.code];
      expect(definition, problem.code).toBeDefined();
      expect(problem, line).toMatchObject({
        type: problemType(problem.code),
        title: definition!.title,
        status: definition!.status,
      });
      expect(status, line).toBe(definition!.status);
      expect(problem.detail.length).toBeGreaterThan(0);
    }
  });
});
