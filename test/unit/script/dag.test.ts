import { affectedNodes, buildDag } from '../../../src/script/dag.js';
import type { DagEdge, StartPolicy } from '../../../src/script/model.js';

function edges(pairs: [string, string][]): DagEdge[] {
  return pairs.map(([from, to]) => ({ from, to, table: from, kind: 'reader' }));
}

describe('node graph', () => {
  it('orders nodes topologically, ties in script order', () => {
    const { dag, cycles } = buildDag(
      ['d', 'a', 'c', 'b'],
      edges([
        ['a', 'b'],
        ['a', 'c'],
        ['c', 'd'],
        ['b', 'd'],
      ]),
    );
    expect(cycles).toEqual([]);
    expect(dag.topo).toEqual(['a', 'c', 'b', 'd']);
    expect(dag.parents('d')).toEqual(['c', 'b']);
    expect(dag.children('a')).toEqual(['b', 'c']);
  });

  it('finds cycles and still lists every node', () => {
    const { dag, cycles } = buildDag(
      ['a', 'b', 'c', 'd'],
      edges([
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'b'],
        ['c', 'd'],
      ]),
    );
    expect(cycles).toEqual([['b', 'c', 'b']]);
    expect(dag.topo).toEqual(['a', 'b', 'c', 'd']);
  });

  describe('affected nodes', () => {
    // load → x (manual) → y (auto) → z (auto); load → w (auto)
    const { dag } = buildDag(
      ['load', 'x', 'y', 'z', 'w'],
      edges([
        ['load', 'x'],
        ['x', 'y'],
        ['y', 'z'],
        ['load', 'w'],
      ]),
    );
    const policy: Record<string, StartPolicy> = {
      load: 'auto',
      x: 'manual',
      y: 'auto',
      z: 'auto',
      w: 'auto',
    };
    const run = (start: string[]): string[] => affectedNodes(dag, (n) => policy[n], start);

    it('does not pass a manual node, nor reach its descendants', () => {
      expect(run(['load'])).toEqual(['load', 'w']);
    });
    it('runs a manual start node and its auto descendants', () => {
      expect(run(['x'])).toEqual(['x', 'y', 'z']);
    });
    it('treats a descendant of a manual non-start node as manual', () => {
      expect(run(['load', 'y'])).toEqual(['load', 'y', 'z', 'w']);
    });
    it('ignores empty names and rejects unknown ones', () => {
      expect(run(['load', ' ', ''])).toEqual(['load', 'w']);
      expect(() => run(['lod'])).toThrow(/unknown start node lod/);
    });
  });
});
