import { AggregateUserError } from '../../../src/errors/index.js';
import { cassandraSettings, DEFAULT_REPLICATION } from '../../../src/store/index.js';

describe('cassandraSettings', () => {
  test('environment with defaults', () => {
    const s = cassandraSettings({}, { PLEXUS_CASSANDRA_CONTACT_POINTS: 'a:9042, b' });
    expect(s).toEqual({
      contactPoints: ['a:9042', 'b'],
      localDataCenter: 'datacenter1',
      username: undefined,
      password: undefined,
      replication: DEFAULT_REPLICATION,
      consistency: 'LOCAL_QUORUM',
      maxInFlight: 64,
      requestTimeoutMs: 30_000,
    });
  });

  test('explicit values win over the environment', () => {
    const s = cassandraSettings(
      { contactPoints: 'c', localDataCenter: 'dc9', consistency: 'quorum', maxInFlight: '8' },
      {
        PLEXUS_CASSANDRA_CONTACT_POINTS: 'a',
        PLEXUS_CASSANDRA_LOCAL_DC: 'dc1',
        PLEXUS_CASSANDRA_USERNAME: 'u',
        PLEXUS_CASSANDRA_PASSWORD: 'p',
        PLEXUS_CASSANDRA_REPLICATION: "{'class': 'NetworkTopologyStrategy', 'dc9': 3}",
      },
    );
    expect(s.contactPoints).toEqual(['c']);
    expect(s.localDataCenter).toBe('dc9');
    expect(s.consistency).toBe('QUORUM');
    expect(s.maxInFlight).toBe(8);
    expect(s.username).toBe('u');
    expect(s.password).toBe('p');
    expect(s.replication).toBe("{'class': 'NetworkTopologyStrategy', 'dc9': 3}");
  });

  test('every problem at once, naming the variable', () => {
    let err: unknown;
    try {
      cassandraSettings(
        {},
        {
          PLEXUS_CASSANDRA_REPLICATION: "{'class': 'SimpleStrategy'}; DROP KEYSPACE x",
          PLEXUS_CASSANDRA_CONSISTENCY: 'SOME',
          PLEXUS_CASSANDRA_MAX_IN_FLIGHT: '0',
          PLEXUS_CASSANDRA_USERNAME: 'u',
        },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AggregateUserError);
    const problems = (err as AggregateUserError).problems.join('\n');
    expect(problems).toMatch(/PLEXUS_CASSANDRA_CONTACT_POINTS/);
    expect(problems).toMatch(/PLEXUS_CASSANDRA_REPLICATION/);
    expect(problems).toMatch(/PLEXUS_CASSANDRA_CONSISTENCY/);
    expect(problems).toMatch(/PLEXUS_CASSANDRA_MAX_IN_FLIGHT/);
    expect(problems).toMatch(/PLEXUS_CASSANDRA_PASSWORD/);
  });

  test('contact points must be host or host:port', () => {
    expect(() => cassandraSettings({ contactPoints: 'a b' }, {})).toThrow(/not host or host:port/);
  });
});
