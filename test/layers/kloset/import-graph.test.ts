import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENGINE = fileURLToPath(new URL('../../../layers/kloset', import.meta.url));
const FLOOR = 'core';
/** `import ... from`, `import type`, `export ... from`, and `import('...')`: every way a module names another */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** An engine folder: the first component below layers/kloset (`.` for the public API's own files). */
function folderOf(file: string): string {
  const parts = relative(ENGINE, file).split('/');
  return parts.length === 1 ? '.' : parts[0]!;
}

/** Which engine folders each folder imports, and through which file, type-only imports included. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(ENGINE)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const target = resolve(dirname(file), specifier!);
      if (relative(ENGINE, target).startsWith('..')) continue;
      const to = folderOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(ENGINE, file)} → ${specifier}`);
    }
  }
  return graph;
}

/** One cycle as the files that close it, or undefined when the graph has none. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle.slice(1).map((to, i) => graph.get(cycle[i]!)!.get(to)!);
  }
  return undefined;
}

describe('the engine import graph', () => {
  const graph = folderGraph();

  test('has the folders it is drawn from', () => {
    expect([...graph.keys()]).toEqual(
      expect.arrayContaining([FLOOR, 'connectors', 'repository', 'snapshot']),
    );
  });

  test('has no cycle between engine folders, type-only imports included', () => {
    expect(findCycle(graph)).toBeUndefined();
  });

  test('the ground floor imports no other part of the engine', () => {
    expect(Object.fromEntries(graph.get(FLOOR)!)).toEqual({});
  });

  test('nothing imports the public API from inside the engine', () => {
    const inward = [...graph].filter(([, edges]) => edges.has('.')).map(([, edges]) => edges.get('.'));
    expect(inward).toEqual([]);
  });
});
