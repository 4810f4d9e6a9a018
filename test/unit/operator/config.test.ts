import { operatorConfigFromEnv, parseDurationMs } from '../../../src/operator/index.js';
import { AggregateUserError } from '../../../src/errors/index.js';

const sources = (env: Record<string, string>) => ({
  env,
  readNamespaceFile: () => undefined,
  hostname: () => 'host-1',
});

describe('parseDurationMs', () => {
  it.each([
    ['15s', 15_000],
    ['250ms', 250],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('%s = %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));
  it.each(['', '15', 'ten seconds', '5d', '-1s'])('rejects %p', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );
});

describe('operatorConfigFromEnv', () => {
  it('has sensible defaults', () => {
    expect(operatorConfigFromEnv(sources({}))).toEqual({
      namespace: 'default',
      identity: 'host-1',
      leaderElection: true,
      leaseName: 'plexus-operator',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      resyncPeriodMs: 600_000,
      reconcileWorkers: 2,
      healthPort: 8080,
      defaultSecrets: {},
    });
  });

  it('reads every variable', () => {
    const c = operatorConfigFromEnv(
      sources({
        PLEXUS_WATCH_NAMESPACE: 'data',
        POD_NAMESPACE: 'plexus-system',
        POD_NAME: 'plexus-operator-5d9f-abcde',
        PLEXUS_LEADER_ELECT: 'false',
        PLEXUS_LEASE_NAME: 'plexus',
        PLEXUS_RESYNC_PERIOD: '5m',
        PLEXUS_RECONCILE_WORKERS: '8',
        PLEXUS_HEALTH_PORT: '9090',
        PLEXUS_IMAGE: 'ghcr.io/plexus/plexus:0.1.0',
        PLEXUS_CASSANDRA_SECRET: 'cassandra',
        PLEXUS_RABBITMQ_SECRET: 'rabbitmq',
        PLEXUS_S3_SECRET: 's3',
        PLEXUS_SFTP_SECRET: 'sftp-keys',
      }),
    );
    expect(c).toMatchObject({
      watchNamespace: 'data',
      namespace: 'plexus-system',
      identity: 'plexus-operator-5d9f-abcde',
      leaderElection: false,
      leaseName: 'plexus',
      resyncPeriodMs: 300_000,
      reconcileWorkers: 8,
      healthPort: 9090,
      image: 'ghcr.io/plexus/plexus:0.1.0',
      defaultSecrets: { cassandra: 'cassandra', rabbitmq: 'rabbitmq', s3: 's3', sftp: 'sftp-keys' },
    });
  });

  it('falls back to the in-cluster namespace file', () => {
    expect(operatorConfigFromEnv({ env: {}, readNamespaceFile: () => 'ops' }).namespace).toBe('ops');
  });

  it('reports every bad variable at once, by name', () => {
    let caught: unknown;
    try {
      operatorConfigFromEnv(
        sources({
          PLEXUS_LEASE_DURATION: 'forever',
          PLEXUS_RECONCILE_WORKERS: '0',
          PLEXUS_LEADER_ELECT: 'maybe',
          POD_NAMESPACE: 'Bad_NS',
          PLEXUS_SFTP_SECRET: 'Bad_Secret',
        }),
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AggregateUserError);
    const problems = (caught as AggregateUserError).problems.join('\n');
    expect(problems).toContain('PLEXUS_LEASE_DURATION: "forever" is not a duration');
    expect(problems).toContain('PLEXUS_RECONCILE_WORKERS: "0" must be an integer from 1 to 64');
    expect(problems).toContain('PLEXUS_LEADER_ELECT: "maybe" must be true or false');
    expect(problems).toContain('POD_NAMESPACE: "Bad_NS" is not a valid namespace name');
    expect(problems).toContain('PLEXUS_SFTP_SECRET: "Bad_Secret" is not a valid Secret name');
  });

  it('checks the leader election timings against each other', () => {
    expect(() => operatorConfigFromEnv(sources({ PLEXUS_RENEW_DEADLINE: '20s' }))).toThrow(
      'PLEXUS_LEASE_DURATION > PLEXUS_RENEW_DEADLINE > PLEXUS_RETRY_PERIOD must hold',
    );
  });
});
