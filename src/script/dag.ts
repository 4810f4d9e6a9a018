import { UserInputError } from '../errors/index.js';
import type { Dag, DagEdge, StartPolicy } from './model.js';

export interface DagBuild {
  dag: Dag;
  /** Nodes on cycles (each cycle as a path a → b → … → a); empty when the graph is acyclic. */
  cycles: string[][];
}

/**
 * Builds the node graph from its edges. `order` is the script order of the nodes (ties in the topological order are
 * broken by it, so the order is stable). Nodes on a cycle are appended to `topo` after the others.
 */
export function buildDag(order: readonly string[], edges: readonly DagEdge[]): DagBuild {
  const parents = new Map<string, string[]>(order.map((n) => [n, []]));
  const children = new Map<string, string[]>(order.map((n) => [n, []]));
  for (const e of edges) {
    const p = parents.get(e.to);
    if (p && !p.includes(e.from)) p.push(e.from);
    const c = children.get(e.from);
    if (c && !c.includes(e.to)) c.push(e.to);
  }
  const rank = new Map(order.map((n, i) => [n, i]));
  const indeg = new Map(order.map((n) => [n, parents.get(n)?.length ?? 0]));
  const ready = order.filter((n) => indeg.get(n) === 0);
  const topo: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
    const n = ready.shift() as string;
    topo.push(n);
    for (const c of children.get(n) ?? []) {
      const d = (indeg.get(c) ?? 0) - 1;
      indeg.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  const cycles: string[][] = [];
  if (topo.length < order.length) {
    const left = new Set(order.filter((n) => !topo.includes(n)));
    const seen = new Set<string>();
    for (const start of order) {
      if (!left.has(start) || seen.has(start)) continue;
      const cycle = findCycle(start, left, children);
      if (cycle) {
        cycle.forEach((n) => seen.add(n));
        cycles.push(cycle);
      }
    }
    topo.push(...order.filter((n) => left.has(n)));
  }
  const dag: Dag = {
    topo,
    edges,
    parents: (n) => [...(parents.get(n) ?? [])],
    children: (n) => [...(children.get(n) ?? [])],
  };
  return { dag, cycles };
}

/** A cycle through `start` within `within`, as a closed path, or undefined if start only leads into one. */
function findCycle(
  start: string,
  within: ReadonlySet<string>,
  children: ReadonlyMap<string, string[]>,
): string[] | undefined {
  const path: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (n: string): string[] | undefined => {
    path.push(n);
    onPath.add(n);
    for (const c of children.get(n) ?? []) {
      if (!within.has(c)) continue;
      if (onPath.has(c)) return [...path.slice(path.indexOf(c)), c];
      if (done.has(c)) continue;
      const found = visit(c);
      if (found) return found;
    }
    path.pop();
    onPath.delete(n);
    done.add(n);
    return undefined;
  };
  return visit(start);
}

/**
 * Nodes a run with these start nodes executes (Capillaries' GetAffectedNodes): a descendant of a start node is
 * "manual" when its own start policy is manual or when it descends from a manual node that is not a start node;
 * the run covers the start nodes and every descendant reachable without passing through a manual node.
 * Empty names (from a trailing comma) are ignored; an unknown name is an error. Result in topological order.
 */
export function affectedNodes(
  dag: Dag,
  startPolicy: (node: string) => StartPolicy | undefined,
  startNodes: readonly string[],
): string[] {
  const starts = new Set<string>();
  const unknown: string[] = [];
  for (const raw of startNodes) {
    const n = raw.trim();
    if (n === '') continue;
    if (startPolicy(n) === undefined) unknown.push(n);
    else starts.add(n);
  }
  if (unknown.length > 0) {
    throw new UserInputError(
      'UNKNOWN_START_NODE',
      `unknown start node${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (the script has ${dag.topo.join(', ')})`,
    );
  }
  // Manual set, computed over the descendants of the start nodes in topological order (equivalent to the DFS).
  const reachable = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const n = stack.pop() as string;
    if (reachable.has(n)) continue;
    reachable.add(n);
    stack.push(...dag.children(n));
  }
  const manual = new Set<string>();
  for (const n of dag.topo) {
    if (!reachable.has(n)) continue;
    const viaParent = dag.parents(n).some((p) => reachable.has(p) && manual.has(p) && !starts.has(p));
    const hasReachableParent = dag.parents(n).some((p) => reachable.has(p));
    if (hasReachableParent && (startPolicy(n) === 'manual' || viaParent)) manual.add(n);
  }
  const affected = new Set<string>(starts);
  const queue = [...starts];
  while (queue.length > 0) {
    const n = queue.shift() as string;
    for (const c of dag.children(n)) {
      if (affected.has(c) || manual.has(c)) continue;
      affected.add(c);
      queue.push(c);
    }
  }
  return dag.topo.filter((n) => affected.has(n));
}
