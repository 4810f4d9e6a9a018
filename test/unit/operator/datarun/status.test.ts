import { MAX_NODE_STATUSES, STATUS_MESSAGE_MAX, type DataRun } from '../../../../src/api/index.js';
import { computeStatus, nodeState } from '../../../../src/operator/datarun/index.js';
import type { NodeReport, RunReport } from '../../../../src/runtime/index.js';
import { NodeStatus, RunStatus } from '../../../../src/store/index.js';

const NOW = Date.parse('2026-01-02T03:04:05Z');

function dataRun(status?: DataRun['status']): DataRun {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'DataRun',
    metadata: { name: 'orders', namespace: 'data', uid: 'u', generation: 4 },
    spec: { script: { inline: '{}' }, startNodes: ['read'] },
    ...(status ? { status } : {}),
  };
}

function node(name: string, status: NodeStatus, total: number, finished: number, failed = 0): NodeReport {
  return {
    node: name,
    status,
    batchesTotal: total,
    batchesFinished: finished,
    batchesFailed: failed,
    batchesRunning: 0,
    failures: failed > 0 ? [{ batchIdx: 0, message: 'bad row' }] : [],
  };
}

function report(nodes: NodeReport[], status: RunStatus, extra: Partial<RunReport> = {}): RunReport {
  const finished = status === RunStatus.Complete || status === RunStatus.Stop;
  return {
    runId: 1,
    status,
    startNodes: ['read'],
    affectedNodes: nodes.map((n) => n.node),
    scriptUrl: '/s.json',
    paramsUrl: '',
    description: '',
    startedAt: new Date('2026-01-02T03:00:00Z'),
    comment: '',
    nodes,
    finished,
    succeeded:
      finished && status === RunStatus.Complete && nodes.every((n) => n.status === NodeStatus.Success),
    ...extra,
  };
}

const cond = (s: ReturnType<typeof computeStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('computeStatus', () => {
  it('an invalid spec: Failed, Accepted=False with the reason, message kept', () => {
    const s = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: false,
      invalid: {
        reason: 'InvalidScript',
        message: 'spec.script: nodes.read.w.fields: must have at least 1 entry',
      },
      nowMs: NOW,
    });
    expect(s.phase).toBe('Failed');
    expect(s.message).toMatch(/nodes\.read/);
    expect(cond(s, 'Accepted')).toMatchObject({
      status: 'False',
      reason: 'InvalidScript',
      observedGeneration: 4,
    });
    expect(cond(s, 'Failed')?.status).toBe('True');
    expect(s.completionTime).toBe('2026-01-02T03:04:05Z');
  });

  it('no batch yet: Pending, Progressing with the waiting reason', () => {
    const s = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: false,
      runId: 1,
      report: report(
        [node('read', NodeStatus.None, 0, 0), node('join', NodeStatus.None, 0, 0)],
        RunStatus.Start,
      ),
      waiting: { reason: 'WaitingForWorkers', message: 'waiting for workers' },
      nowMs: NOW,
    });
    expect(s.phase).toBe('Pending');
    expect(s.progress).toBe('0/2');
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'WaitingForWorkers' });
    expect(s.completionTime).toBeUndefined();
  });

  it('running: counts per node and in total', () => {
    const s = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: false,
      runId: 1,
      report: report(
        [node('read', NodeStatus.Success, 2, 2), node('join', NodeStatus.Start, 10, 3)],
        RunStatus.Start,
      ),
      nowMs: NOW,
    });
    expect(s.phase).toBe('Running');
    expect(s.progress).toBe('1/2');
    expect(s.batches).toEqual({ done: 5, failed: 0, total: 12 });
    expect(s.batchProgress).toBe('5/12');
    expect(s.nodes).toEqual([
      { name: 'read', state: 'Succeeded', batches: { done: 2, failed: 0, total: 2 } },
      { name: 'join', state: 'Running', batches: { done: 3, failed: 0, total: 10 } },
    ]);
    expect(s.startTime).toBe('2026-01-02T03:00:00.000Z');
  });

  it('complete with a failed node: Failed naming the node and its first failure', () => {
    const s = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: false,
      runId: 1,
      report: report(
        [node('read', NodeStatus.Success, 1, 1), node('join', NodeStatus.Fail, 2, 2, 1)],
        RunStatus.Complete,
      ),
      nowMs: NOW,
    });
    expect(s.phase).toBe('Failed');
    expect(s.message).toContain('join Failed: bad row');
    expect(cond(s, 'Failed')).toMatchObject({ status: 'True', reason: 'NodeFailed' });
    expect(cond(s, 'Complete')?.status).toBe('False');
  });

  it('complete and all nodes succeeded: Succeeded, Complete=True', () => {
    const s = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: false,
      runId: 1,
      report: report([node('read', NodeStatus.Success, 1, 1)], RunStatus.Complete),
      nowMs: NOW,
    });
    expect(s.phase).toBe('Succeeded');
    expect(cond(s, 'Complete')).toMatchObject({ status: 'True', reason: 'AllNodesSucceeded' });
    expect(s.completionTime).toBe('2026-01-02T03:04:05Z');
  });

  it('suspended: Suspended=True, not failed by its own stop', () => {
    const s = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: true,
      runId: 1,
      report: report([node('read', NodeStatus.StopReceived, 1, 0)], RunStatus.Stop),
      nowMs: NOW,
    });
    expect(s.phase).toBe('Suspended');
    expect(cond(s, 'Suspended')).toMatchObject({ status: 'True', reason: 'SuspendedByUser' });
    expect(cond(s, 'Failed')?.status).toBe('False');
  });

  it('a lost-attempt failure wins over a running run', () => {
    const s = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: false,
      runId: 1,
      report: report([node('read', NodeStatus.Start, 4, 1)], RunStatus.Start),
      failure: { reason: 'BackoffLimitExceeded', message: 'worker Job failed 5 time(s)' },
      nowMs: NOW,
    });
    expect(s.phase).toBe('Failed');
    expect(cond(s, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
  });

  it('keeps lists and message bounded, and transition times of unchanged conditions', () => {
    const many = Array.from({ length: MAX_NODE_STATUSES + 20 }, (_, i) =>
      node(`n${i}`, NodeStatus.Fail, 1, 1, 1),
    );
    many[0] = { ...many[0]!, failures: [{ batchIdx: 0, message: 'x'.repeat(5000) }] };
    const first = computeStatus(dataRun(), {
      keyspace: 'ks',
      suspended: false,
      runId: 1,
      report: report(many, RunStatus.Complete),
      nowMs: NOW,
    });
    expect(first.nodes).toHaveLength(MAX_NODE_STATUSES);
    expect(first.progress).toBe(`0/${MAX_NODE_STATUSES + 20}`);
    expect(first.message!.length).toBeLessThanOrEqual(STATUS_MESSAGE_MAX);
    const again = computeStatus(dataRun(first), {
      keyspace: 'ks',
      suspended: false,
      runId: 1,
      report: report(many, RunStatus.Complete),
      nowMs: NOW + 60_000,
    });
    expect(cond(again, 'Failed')?.lastTransitionTime).toBe(cond(first, 'Failed')?.lastTransitionTime);
    expect(again.completionTime).toBe(first.completionTime);
  });
});

describe('nodeState', () => {
  it('maps store statuses', () => {
    expect(nodeState(NodeStatus.None)).toBe('Pending');
    expect(nodeState(NodeStatus.Start)).toBe('Running');
    expect(nodeState(NodeStatus.Success)).toBe('Succeeded');
    expect(nodeState(NodeStatus.Fail)).toBe('Failed');
    expect(nodeState(NodeStatus.StopReceived)).toBe('Stopped');
  });
});
