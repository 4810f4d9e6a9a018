import type { Condition } from '../../../src/api/index.js';
import {
  CONDITION_MESSAGE_MAX,
  findCondition,
  isConditionTrue,
  mergePatchBetween,
  removeCondition,
  setCondition,
  setConditions,
  statusPatch,
} from '../../../src/operator/index.js';

const T0 = Date.parse('2026-11-25T07:00:00Z');
const T1 = T0 + 60_000;

describe('setCondition', () => {
  it('adds a new condition with lastTransitionTime = now (seconds precision)', () => {
    const out = setCondition(
      undefined,
      { type: 'Accepted', status: 'True', reason: 'Valid', observedGeneration: 1 },
      T0 + 123,
    );
    expect(out).toEqual([
      {
        type: 'Accepted',
        status: 'True',
        reason: 'Valid',
        message: '',
        lastTransitionTime: '2026-11-25T07:00:00Z',
        observedGeneration: 1,
      },
    ]);
  });

  it('keeps lastTransitionTime when the status does not flip, updating reason, message and generation', () => {
    const first = setCondition(
      [],
      { type: 'Progressing', status: 'True', reason: 'Starting', observedGeneration: 1 },
      T0,
    );
    const second = setCondition(
      first,
      {
        type: 'Progressing',
        status: 'True',
        reason: 'BatchesRunning',
        message: '3/7',
        observedGeneration: 2,
      },
      T1,
    );
    expect(second[0]).toMatchObject({
      reason: 'BatchesRunning',
      message: '3/7',
      observedGeneration: 2,
      lastTransitionTime: '2026-11-25T07:00:00Z',
    });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const first = setCondition([], { type: 'Complete', status: 'False', reason: 'Running' }, T0);
    const flipped = setCondition(
      first,
      { type: 'Complete', status: 'True', reason: 'AllNodesSucceeded' },
      T1,
    );
    expect(flipped[0]?.lastTransitionTime).toBe('2026-11-25T07:01:00Z');
  });

  it('does not mutate its input and keeps the order of types', () => {
    const input: Condition[] = setConditions(
      [],
      [
        { type: 'Accepted', status: 'True', reason: 'Valid' },
        { type: 'Progressing', status: 'True', reason: 'Running' },
      ],
      T0,
    );
    const frozen = JSON.stringify(input);
    const out = setCondition(
      input,
      { type: 'Accepted', status: 'False', reason: 'InvalidScript', message: 'node x: bad' },
      T1,
    );
    expect(JSON.stringify(input)).toBe(frozen);
    expect(out.map((c) => c.type)).toEqual(['Accepted', 'Progressing']);
    expect(isConditionTrue(out, 'Accepted')).toBe(false);
    expect(isConditionTrue(out, 'Progressing')).toBe(true);
    expect(findCondition(out, 'Complete')).toBeUndefined();
    expect(removeCondition(out, 'Accepted').map((c) => c.type)).toEqual(['Progressing']);
  });

  it('truncates long messages', () => {
    const out = setCondition(
      [],
      { type: 'Failed', status: 'True', reason: 'NodeFailed', message: 'x'.repeat(5000) },
      T0,
    );
    expect(out[0]?.message).toHaveLength(CONDITION_MESSAGE_MAX);
    expect(out[0]?.message.endsWith('…')).toBe(true);
  });
});

describe('mergePatchBetween', () => {
  it('is undefined when nothing changed', () => {
    expect(
      mergePatchBetween({ a: 1, b: [1, 2], c: { d: 'x' } }, { a: 1, b: [1, 2], c: { d: 'x' }, e: undefined }),
    ).toBeUndefined();
  });

  it('sets changed members, nulls removed ones and replaces arrays whole', () => {
    expect(
      mergePatchBetween(
        { phase: 'Running', message: 'old', batches: { done: 1, total: 9 }, nodes: [{ name: 'a' }] },
        { phase: 'Running', batches: { done: 2, total: 9 }, nodes: [{ name: 'a' }, { name: 'b' }], runId: 3 },
      ),
    ).toEqual({ message: null, batches: { done: 2 }, nodes: [{ name: 'a' }, { name: 'b' }], runId: 3 });
  });
});

describe('statusPatch', () => {
  const obj = {
    metadata: { name: 'r', namespace: 'ns', generation: 4, resourceVersion: '77' },
    status: { phase: 'Running', observedGeneration: 3 },
  };

  it('sets observedGeneration from metadata.generation and guards with the resourceVersion', () => {
    expect(statusPatch(obj, { phase: 'Running' })).toEqual({
      metadata: { resourceVersion: '77' },
      status: { observedGeneration: 4 },
    });
  });

  it('returns undefined when the status is already current', () => {
    const current = { ...obj, status: { phase: 'Running', observedGeneration: 4 } };
    expect(statusPatch(current, { phase: 'Running' })).toBeUndefined();
  });

  it('can skip the optimistic lock', () => {
    expect(statusPatch(obj, { phase: 'Failed' }, { optimistic: false })).toEqual({
      status: { phase: 'Failed', observedGeneration: 4 },
    });
  });
});
