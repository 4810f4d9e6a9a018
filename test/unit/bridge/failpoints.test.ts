describe('failpoints', () => {
  it('fire exactly at the configured hit, and never when unset', async () => {
    process.env.PLEXUS_FAILPOINTS = 'append.torn@3, upload.after-put';
    const { failpointFires } = await import('../../../src/bridge/failpoints.js');
    delete process.env.PLEXUS_FAILPOINTS;
    expect([1, 2, 3, 4].map(() => failpointFires('append.torn'))).toEqual([false, false, true, false]);
    expect([1, 2].map(() => failpointFires('upload.after-put'))).toEqual([true, false]);
    expect(failpointFires('commit.after-rename')).toBe(false);
  });
});
