import { nodeCompletionOf, nodeStatusOf, runStatusOf } from '../../../src/runtime/index.js';
import { NodeStatus, RunStatus } from '../../../src/store/index.js';

const t = (ms: number): Date => new Date(1_700_000_000_000 + ms);

function nodeEvent(ms: number, status: NodeStatus) {
  return { ts: t(ms), runId: 1, node: 'n', writtenByBatchIdx: 0, status, comment: '' };
}

function batchEvent(ms: number, batchIdx: number, status: NodeStatus, batchesTotal = 2) {
  return {
    ts: t(ms),
    runId: 1,
    node: 'n',
    batchIdx,
    batchesTotal,
    status,
    firstToken: 0n,
    lastToken: 0n,
    instance: 'i',
    thread: 0,
    comment: '',
  };
}

describe('status rules', () => {
  test('run status: stop wins over complete over start', () => {
    const ev = (status: RunStatus) => ({ ts: t(0), runId: 1, status, comment: '' });
    expect(runStatusOf([])).toBe(RunStatus.None);
    expect(runStatusOf([ev(RunStatus.Start)])).toBe(RunStatus.Start);
    expect(runStatusOf([ev(RunStatus.Start), ev(RunStatus.Complete)])).toBe(RunStatus.Complete);
    expect(runStatusOf([ev(RunStatus.Stop), ev(RunStatus.Complete), ev(RunStatus.Start)])).toBe(
      RunStatus.Stop,
    );
  });

  test('node status: latest of earliest start / latest terminal, stopreceived sticky', () => {
    expect(nodeStatusOf([])).toBe(NodeStatus.None);
    expect(nodeStatusOf([nodeEvent(0, NodeStatus.Start)])).toBe(NodeStatus.Start);
    expect(nodeStatusOf([nodeEvent(0, NodeStatus.Start), nodeEvent(5, NodeStatus.Success)])).toBe(
      NodeStatus.Success,
    );
    // a later start row (another batch) does not hide success: starts collapse to the earliest
    expect(
      nodeStatusOf([
        nodeEvent(0, NodeStatus.Start),
        nodeEvent(5, NodeStatus.Success),
        nodeEvent(9, NodeStatus.Start),
      ]),
    ).toBe(NodeStatus.Success);
    // same millisecond: the terminal status wins
    expect(nodeStatusOf([nodeEvent(3, NodeStatus.Success), nodeEvent(3, NodeStatus.Start)])).toBe(
      NodeStatus.Success,
    );
    expect(nodeStatusOf([nodeEvent(0, NodeStatus.StopReceived), nodeEvent(5, NodeStatus.Success)])).toBe(
      NodeStatus.StopReceived,
    );
  });

  test('node completion from batches', () => {
    expect(nodeCompletionOf([batchEvent(0, 0, NodeStatus.Start)]).status).toBeUndefined();
    expect(nodeCompletionOf([batchEvent(0, 0, NodeStatus.Success)]).status).toBeUndefined();
    const ok = nodeCompletionOf([batchEvent(0, 0, NodeStatus.Success), batchEvent(1, 1, NodeStatus.Success)]);
    expect(ok).toEqual({ status: NodeStatus.Success, batchesTotal: 2, finished: 2, failed: 0 });
    const failed = nodeCompletionOf([
      batchEvent(0, 0, NodeStatus.Fail),
      batchEvent(1, 1, NodeStatus.Success),
    ]);
    expect(failed.status).toBe(NodeStatus.Fail);
    expect(failed.failed).toBe(1);
    const stopped = nodeCompletionOf([
      batchEvent(0, 0, NodeStatus.StopReceived),
      batchEvent(1, 1, NodeStatus.Success),
    ]);
    expect(stopped.status).toBe(NodeStatus.StopReceived);
  });
});
