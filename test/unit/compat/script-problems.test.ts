import { loadScript, ScriptError } from '../../../src/script/index.js';

const POLICY = {
  is_default: true,
  event_priority_order: 'run_is_current(desc), run_id(desc)',
  rules: [
    { cmd: 'go', expression: 'nrs.run_is_current == true && nrs.node_status == wfmodel.NodeBatchSuccess' },
  ],
};

function script(distinct: Record<string, unknown>): string {
  return JSON.stringify({
    nodes: {
      read: {
        type: 'file_table',
        r: { urls: ['/in/a.csv'], columns: { col_id: { csv: { col_idx: 0 }, col_type: 'int' } } },
        w: { name: 'items', fields: { id: { expression: 'r.col_id', type: 'int' } } },
      },
      dist: {
        type: 'distinct_table',
        rerun_policy: 'fail',
        r: { table: 'items' },
        w: {
          name: 'ids',
          fields: { id: { expression: 'r.id', type: 'int' } },
          indexes: { idx_ids_id: 'unique(id)' },
        },
        ...distinct,
      },
    },
    dependency_policies: { p: POLICY },
  });
}

async function problems(text: string): Promise<string[]> {
  try {
    await loadScript({ scriptUrl: '/cfg/script.json', readText: async () => text });
  } catch (e) {
    if (e instanceof ScriptError) return e.details.map((d) => `${d.path}: ${d.message}`);
    throw e;
  }
  return [];
}

describe('script problems of distinct_table (§1.11)', () => {
  test('a valid distinct_table loads', async () => {
    expect(await problems(script({}))).toEqual([]);
  });

  test('having or a wrong rerun_policy is reported alone: the unique index still counts as used', async () => {
    const withHaving = JSON.parse(script({})) as {
      nodes: { dist: { w: Record<string, unknown>; rerun_policy?: string } };
    };
    withHaving.nodes.dist.w.having = 'w.id > 1';
    expect(await problems(JSON.stringify(withHaving))).toEqual([
      'nodes.dist.w.having: a distinct_table cannot have having',
    ]);
    const rerun = JSON.parse(script({})) as typeof withHaving;
    rerun.nodes.dist.rerun_policy = 'rerun';
    expect(await problems(JSON.stringify(rerun))).toEqual([
      'nodes.dist.rerun_policy: a distinct_table must have rerun_policy: fail',
    ]);
  });
});
