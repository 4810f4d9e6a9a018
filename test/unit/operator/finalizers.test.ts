import {
  childName,
  controllerKey,
  controllerReference,
  hasFinalizer,
  isBeingDeleted,
} from '../../../src/operator/index.js';

const run = {
  apiVersion: 'plexus.dev/v1alpha1',
  kind: 'DataRun',
  metadata: { name: 'lookup', namespace: 'data', uid: 'u-1', finalizers: ['plexus.dev/cleanup'] },
};

describe('finalizer and owner helpers', () => {
  it('reads finalizers and deletion state', () => {
    expect(hasFinalizer(run, 'plexus.dev/cleanup')).toBe(true);
    expect(hasFinalizer(run, 'other')).toBe(false);
    expect(isBeingDeleted(run)).toBe(false);
    expect(isBeingDeleted({ metadata: { ...run.metadata, deletionTimestamp: '2026-11-25T08:00:00Z' } })).toBe(
      true,
    );
  });

  it('builds a controller reference and maps a child back to its owner key', () => {
    const ref = controllerReference(run);
    expect(ref).toEqual({
      apiVersion: 'plexus.dev/v1alpha1',
      kind: 'DataRun',
      name: 'lookup',
      uid: 'u-1',
      controller: true,
      blockOwnerDeletion: true,
    });
    const job = { metadata: { name: 'lookup-workers', namespace: 'data', ownerReferences: [ref] } };
    expect(controllerKey(job, 'DataRun')).toBe('data/lookup');
    expect(controllerKey(job, 'StreamBridge')).toBeUndefined();
    expect(() => controllerReference({ metadata: { name: 'x' } })).toThrow(
      'apiVersion, kind and metadata.uid are needed',
    );
  });
});

describe('childName', () => {
  it('joins and cleans short names', () => {
    expect(childName(['lookup-quick', 'workers'])).toBe('lookup-quick-workers');
    expect(childName(['Run.1', 'read_orders'])).toBe('run-1-read-orders');
  });

  it('shortens long names deterministically with a hash suffix', () => {
    const long = childName(['a'.repeat(60), 'workers']);
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^a+-[0-9a-f]{8}$/);
    expect(childName(['a'.repeat(60), 'workers'])).toBe(long);
    expect(childName(['a'.repeat(60), 'workers2'])).not.toBe(long);
    expect(childName(['x'.repeat(100)], 20)).toHaveLength(20);
  });
});
