import type { DataRun } from '../../../../src/api/index.js';
import { CONFIGMAPS, SECRETS, type KubeObject } from '../../../../src/operator/index.js';
import { utils as sshUtils } from 'ssh2';
import {
  readSftpWithRunKeys,
  resolveConnections,
  resolveRun,
  resolveSftpKeys,
  SpecError,
} from '../../../../src/operator/datarun/index.js';
import { FakeKube } from '../fake-kube.js';

const SCRIPT = {
  nodes: {
    read_orders: {
      type: 'file_table',
      r: {
        urls: ['/data/in/orders.csv'],
        csv: { hdr_line_idx: 0, first_data_line_idx: 1 },
        columns: { col_id: { csv: { col_idx: 0 }, col_type: 'int' } },
      },
      w: { name: 'orders', having: 'w.id > 0', fields: { id: { expression: 'r.col_id', type: 'int' } } },
    },
  },
  dependency_policies: {
    current_active_first_stopped_nogo: {
      is_default: true,
      event_priority_order: 'run_is_current(desc), run_id(desc)',
      rules: [
        {
          cmd: 'go',
          expression: 'nrs.run_is_current == true && nrs.node_status == wfmodel.NodeBatchSuccess',
        },
      ],
    },
  },
};

function dataRun(spec: Partial<DataRun['spec']>): DataRun {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'DataRun',
    metadata: { name: 'orders', namespace: 'data', uid: 'u', generation: 1 },
    spec: { script: { inline: '{}' }, startNodes: ['read_orders'], ...spec },
  };
}

const noUrl = (url: string): Promise<string> => Promise.reject(new Error(`unexpected read of ${url}`));

async function specError(p: Promise<unknown>): Promise<SpecError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('resolveRun', () => {
  it('loads an inline script with params overrides; the workers read it from the snapshot mount', async () => {
    const r = await resolveRun(
      new FakeKube(),
      dataRun({
        script: { inline: JSON.stringify(SCRIPT).replace('/data/in/orders.csv', '{dir_in}/orders.csv') },
        params: { inline: 'dir_in: /nowhere\n' },
        paramOverrides: { dir_in: '/data/in' },
      }),
      '/etc/plexus/run/',
      noUrl,
    );
    expect(r.script.url).toBe('/etc/plexus/run/script.json');
    expect(r.params?.url).toBe('/etc/plexus/run/params.yaml');
    expect(r.script.snapshot?.key).toBe('script.json');
    expect(r.overrides).toEqual({ dir_in: '/data/in' });
    expect([...r.loaded.nodes.keys()]).toEqual(['read_orders']);
  });

  it('reads a ConfigMap key; a missing ConfigMap or key names the field', async () => {
    const kube = new FakeKube();
    kube.put(CONFIGMAPS, {
      metadata: { name: 'cfg', namespace: 'data' },
      data: { 'script.json': JSON.stringify(SCRIPT) },
    } as KubeObject);
    const ok = await resolveRun(
      kube,
      dataRun({ script: { configMapKeyRef: { name: 'cfg', key: 'script.json' } } }),
      '/m',
      noUrl,
    );
    expect(ok.script.snapshot?.text).toBe(JSON.stringify(SCRIPT));
    const noKey = await specError(
      resolveRun(
        kube,
        dataRun({ script: { configMapKeyRef: { name: 'cfg', key: 'other.yaml' } } }),
        '/m',
        noUrl,
      ),
    );
    expect(noKey.reason).toBe('ConfigMapKeyNotFound');
    expect(noKey.message).toMatch(/^spec\.script\.configMapKeyRef: ConfigMap cfg has no key other\.yaml/);
    const noMap = await specError(
      resolveRun(
        kube,
        dataRun({ params: { configMapKeyRef: { name: 'gone', key: 'p.yaml' } } }),
        '/m',
        noUrl,
      ),
    );
    expect(noMap.message).toMatch(/^spec\.params\.configMapKeyRef: ConfigMap gone not found/);
  });

  it('validates from the snapshot once there is one', async () => {
    const r = await resolveRun(
      new FakeKube(),
      dataRun({ script: { configMapKeyRef: { name: 'changed-since', key: 's.json' } } }),
      '/m',
      noUrl,
      { 'script.json': JSON.stringify(SCRIPT) },
    );
    expect(r.script.url).toBe('/m/script.json');
  });

  it('an invalid script or unknown start node is a SpecError naming the field and node', async () => {
    const bad = structuredClone(SCRIPT) as { nodes: { read_orders: { w: { fields: object } } } };
    bad.nodes.read_orders.w.fields = {};
    const e = await specError(
      resolveRun(new FakeKube(), dataRun({ script: { inline: JSON.stringify(bad) } }), '/m', noUrl),
    );
    expect(e.reason).toBe('InvalidScript');
    expect(e.message).toMatch(/spec\.script: .*nodes\.read_orders\.w\.fields/s);
    const s = await specError(
      resolveRun(
        new FakeKube(),
        dataRun({ script: { inline: JSON.stringify(SCRIPT) }, startNodes: ['nope'] }),
        '/m',
        noUrl,
      ),
    );
    expect(s.reason).toBe('UnknownStartNode');
    expect(s.message).toBe('spec.startNodes: nope not in the script (nodes: read_orders)');
  });

  it('reads URL sources with the given reader', async () => {
    const read: string[] = [];
    const r = await resolveRun(
      new FakeKube(),
      dataRun({ script: { url: 'https://example.com/s.json' } }),
      '/m',
      async (url) => {
        read.push(url);
        return JSON.stringify(SCRIPT);
      },
    );
    expect(read).toEqual(['https://example.com/s.json']);
    expect(r.script).toEqual({ field: 'spec.script', url: 'https://example.com/s.json' });
  });
});

describe('resolveConnections', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('takes Secrets by secretKeyRef and copies the controller environment otherwise', async () => {
    const kube = new FakeKube();
    kube.put(SECRETS, {
      metadata: { name: 'mq', namespace: 'data' },
      data: { url: b64('amqp://u:p@mq:5672') },
    } as KubeObject);
    const c = await resolveConnections(
      kube,
      dataRun({ connections: { rabbitmq: { secretRef: { name: 'mq' } } } }),
      {},
      { PLEXUS_CASSANDRA_CONTACT_POINTS: 'cass:9042', PLEXUS_RABBITMQ_URL: 'amqp://ignored', OTHER: 'x' },
    );
    expect(c.env).toEqual([
      { name: 'PLEXUS_CASSANDRA_CONTACT_POINTS', value: 'cass:9042' },
      { name: 'PLEXUS_RABBITMQ_URL', valueFrom: { secretKeyRef: { name: 'mq', key: 'url' } } },
    ]);
    expect(c.values).toEqual({
      PLEXUS_CASSANDRA_CONTACT_POINTS: 'cass:9042',
      PLEXUS_RABBITMQ_URL: 'amqp://u:p@mq:5672',
    });
  });

  it('a missing Secret or required key is a SpecError naming where it came from', async () => {
    const kube = new FakeKube();
    kube.put(SECRETS, { metadata: { name: 'cass', namespace: 'data' }, data: {} } as KubeObject);
    const missing = await specError(
      resolveConnections(
        kube,
        dataRun({ connections: { rabbitmq: { secretRef: { name: 'nope' } } } }),
        {},
        {},
      ),
    );
    expect(missing.message).toBe('spec.connections.rabbitmq.secretRef: Secret nope not found in data');
    const noKey = await specError(resolveConnections(kube, dataRun({}), { cassandra: 'cass' }, {}));
    expect(noKey.reason).toBe('SecretKeyMissing');
    expect(noKey.message).toBe(
      "the controller's default cassandra Secret: Secret cass has no key contactPoints",
    );
  });
});

describe('resolveSftpKeys', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const key = sshUtils.generateKeyPairSync('ed25519');
  const hostKey = sshUtils.generateKeyPairSync('ed25519').public.split(' ')[1];
  const withSftp = (name: string) => dataRun({ connections: { sftp: { secretRef: { name } } } });

  it('lists the user keys and whether known_hosts is there; nothing when the spec names no Secret', async () => {
    const kube = new FakeKube();
    kube.put(SECRETS, {
      metadata: { name: 'sftp-keys', namespace: 'data' },
      data: {
        reports: b64(key.private),
        etl: b64(key.private),
        known_hosts: b64(`[files.example.org]:2222 ssh-ed25519 ${hostKey}\n`),
      },
    } as KubeObject);
    expect(await resolveSftpKeys(kube, withSftp('sftp-keys'))).toEqual({
      secretName: 'sftp-keys',
      users: ['etl', 'reports'],
      knownHosts: true,
    });
    expect(await resolveSftpKeys(kube, dataRun({}))).toBeUndefined();
  });

  it('a missing Secret, no user key, a key that is not a private key or a bad known_hosts: SpecErrors', async () => {
    const kube = new FakeKube();
    const put = (name: string, data: Record<string, string>) =>
      kube.put(SECRETS, { metadata: { name, namespace: 'data' }, data } as KubeObject);
    put('only-hosts', { known_hosts: b64(`h ssh-ed25519 ${hostKey}`) });
    put('public', { etl: b64(key.public) });
    put('garbage', { etl: b64('SECRET-LOOKING-TEXT') });
    put('bad-hosts', { etl: b64(key.private), known_hosts: b64('h ssh-ed25519') });
    const field = 'spec.connections.sftp.secretRef';
    expect((await specError(resolveSftpKeys(kube, withSftp('nope')))).message).toBe(
      `${field}: Secret nope not found in data`,
    );
    const none = await specError(resolveSftpKeys(kube, withSftp('only-hosts')));
    expect(none).toMatchObject({ reason: 'SecretKeyMissing' });
    expect(none.message).toBe(
      `${field}: Secret only-hosts holds no private key (each key is a user name of the sftp:// URLs and holds that user's private key)`,
    );
    const pub = await specError(resolveSftpKeys(kube, withSftp('public')));
    expect(pub).toMatchObject({ reason: 'SecretKeyInvalid' });
    expect(pub.message).toMatch(new RegExp(`^${field}: Secret public key etl is not a usable private key: `));
    const garbage = await specError(resolveSftpKeys(kube, withSftp('garbage')));
    expect(garbage.message).toMatch(/Secret garbage key etl is not a usable private key/);
    expect(garbage.message).not.toContain('SECRET-LOOKING-TEXT');
    expect((await specError(resolveSftpKeys(kube, withSftp('bad-hosts')))).message).toBe(
      `${field}: Secret bad-hosts key known_hosts:1: expected "hostnames keytype base64-key [comment]"`,
    );
  });
  it("uses the controller's default Secret (PLEXUS_SFTP_SECRET) when the spec names none", async () => {
    const kube = new FakeKube();
    const put = (name: string, data: Record<string, string>) =>
      kube.put(SECRETS, { metadata: { name, namespace: 'data' }, data } as KubeObject);
    put('default-keys', { etl: b64(key.private) });
    put('own-keys', { reports: b64(key.private) });
    put('only-hosts', { known_hosts: b64(`h ssh-ed25519 ${hostKey}`) });
    expect(await resolveSftpKeys(kube, dataRun({}), 'default-keys')).toEqual({
      secretName: 'default-keys',
      users: ['etl'],
      knownHosts: false,
    });
    // the spec's Secret wins over the default
    expect(await resolveSftpKeys(kube, withSftp('own-keys'), 'default-keys')).toEqual({
      secretName: 'own-keys',
      users: ['reports'],
      knownHosts: false,
    });
    const field = "the controller's default sftp Secret (PLEXUS_SFTP_SECRET)";
    const missing = await specError(resolveSftpKeys(kube, dataRun({}), 'gone'));
    expect(missing).toMatchObject({ reason: 'SecretNotFound' });
    expect(missing.message).toBe(`${field}: Secret gone not found in data`);
    const none = await specError(resolveSftpKeys(kube, dataRun({}), 'only-hosts'));
    expect(none).toMatchObject({ reason: 'SecretKeyMissing' });
    expect(none.message.startsWith(`${field}: Secret only-hosts holds no private key`)).toBe(true);
    // a missing spec Secret is still reported as the spec's, not the default's
    expect((await specError(resolveSftpKeys(kube, withSftp('nope'), 'default-keys'))).message).toBe(
      'spec.connections.sftp.secretRef: Secret nope not found in data',
    );
  });

  it('readSftpWithRunKeys: a missing default Secret, or none at all, is a SpecError before any connection', async () => {
    const kube = new FakeKube();
    const url = 'sftp://etl@files.example.org/data/criteria.json';
    const missing = await specError(readSftpWithRunKeys(kube, dataRun({}), url, undefined, 'gone'));
    expect(missing).toMatchObject({ reason: 'SecretNotFound' });
    expect(missing.message).toBe(
      "the controller's default sftp Secret (PLEXUS_SFTP_SECRET): Secret gone not found in data",
    );
    const none = await specError(readSftpWithRunKeys(kube, dataRun({}), url));
    expect(none).toMatchObject({ reason: 'SecretNotFound' });
    expect(none.message).toBe(
      `spec.connections.sftp.secretRef: no SFTP keys Secret is named (and the controller has no default, PLEXUS_SFTP_SECRET) to read ${url}`,
    );
  });
});
