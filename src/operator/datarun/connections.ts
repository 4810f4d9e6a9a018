/**
 * Connections of a DataRun (Cassandra, RabbitMQ, S3): each from the Secret the spec names, else the
 * controller's default Secret (PLEXUS_*_SECRET), else the controller's own environment. The worker pods get
 * the same settings as environment variables — from the Secret by secretKeyRef (the values never appear in
 * the Job), or as plain values copied from the controller's environment. The SFTP keys come from the Secret
 * the spec names, else the controller's default (PLEXUS_SFTP_SECRET), never from its environment
 * (resolveSftpKeys); the workers get it as mounted files.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DataRun, EnvVar } from '../../api/index.js';
import { errorMessage } from '../../errors/index.js';
import { UrlIo, parseKnownHosts, privateKeyProblem } from '../../io/index.js';
import type { Logger } from '../../obs/index.js';
import { CassandraStore, cassandraSettings, CASSANDRA_ENV } from '../../store/index.js';
import { RabbitMqQueue, rabbitMqSettings, RABBITMQ_ENV } from '../../queue/index.js';
import type { KubeClient, KubeObject } from '../kube-client.js';
import { SECRETS } from '../kube-client.js';
import { SFTP_KNOWN_HOSTS_KEY, type SftpKeys } from './job.js';
import { SpecError } from './source.js';

interface Secret extends KubeObject {
  data?: Record<string, string>;
}

/** Secret key → environment variable, per service; `required` keys must be in the Secret. */
const KEYS = {
  cassandra: [
    { key: 'contactPoints', env: CASSANDRA_ENV.contactPoints, required: true },
    { key: 'localDataCenter', env: CASSANDRA_ENV.localDataCenter, required: false },
    { key: 'username', env: CASSANDRA_ENV.username, required: false },
    { key: 'password', env: CASSANDRA_ENV.password, required: false },
    { key: 'keyspaceReplication', env: CASSANDRA_ENV.replication, required: false },
  ],
  rabbitmq: [{ key: 'url', env: RABBITMQ_ENV.url, required: true }],
  s3: [
    { key: 'accessKeyId', env: 'AWS_ACCESS_KEY_ID', required: true },
    { key: 'secretAccessKey', env: 'AWS_SECRET_ACCESS_KEY', required: true },
    { key: 'region', env: 'AWS_REGION', required: false },
    { key: 'endpoint', env: 'PLEXUS_S3_ENDPOINT', required: false },
    { key: 'forcePathStyle', env: 'PLEXUS_S3_FORCE_PATH_STYLE', required: false },
  ],
} as const;

/** Controller environment variables passed on to workers when no Secret is configured. */
const PASSED_ON: Record<keyof typeof KEYS, readonly string[]> = {
  cassandra: [...Object.values(CASSANDRA_ENV)],
  rabbitmq: [...Object.values(RABBITMQ_ENV)],
  s3: [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_REGION',
    'PLEXUS_S3_ENDPOINT',
    'PLEXUS_S3_FORCE_PATH_STYLE',
  ],
};

export interface ResolvedConnections {
  /** Environment of the worker container. */
  readonly env: EnvVar[];
  /** The same settings as values, for the controller's own clients (Cassandra and RabbitMQ variables). */
  readonly values: Readonly<Record<string, string>>;
}

/**
 * Resolves the connections of a run. A named Secret that is missing, or lacks a required key, is a
 * SpecError naming the field.
 */
export async function resolveConnections(
  client: KubeClient,
  run: DataRun,
  defaults: { cassandra?: string; rabbitmq?: string; s3?: string },
  controllerEnv: Readonly<Record<string, string | undefined>>,
): Promise<ResolvedConnections> {
  const ns = run.metadata.namespace ?? 'default';
  const env: EnvVar[] = [];
  const values: Record<string, string> = {};
  for (const service of ['cassandra', 'rabbitmq', 's3'] as const) {
    const fromSpec = run.spec.connections?.[service]?.secretRef.name;
    const secretName = fromSpec ?? defaults[service];
    const field = fromSpec
      ? `spec.connections.${service}.secretRef`
      : `the controller's default ${service} Secret`;
    if (secretName === undefined) {
      for (const name of PASSED_ON[service]) {
        const v = controllerEnv[name];
        if (v !== undefined && v !== '') {
          env.push({ name, value: v });
          values[name] = v;
        }
      }
      continue;
    }
    const secret = await client.get<Secret>(SECRETS, ns, secretName);
    if (!secret) throw new SpecError('SecretNotFound', `${field}: Secret ${secretName} not found in ${ns}`);
    for (const k of KEYS[service]) {
      const b64 = secret.data?.[k.key];
      if (b64 === undefined) {
        if (k.required)
          throw new SpecError('SecretKeyMissing', `${field}: Secret ${secretName} has no key ${k.key}`);
        continue;
      }
      values[k.env] = Buffer.from(b64, 'base64').toString('utf8');
      env.push({ name: k.env, valueFrom: { secretKeyRef: { name: secretName, key: k.key } } });
    }
  }
  return { env, values };
}

/**
 * Where the SFTP keys Secret of a run comes from: spec.connections.sftp, else the controller's default
 * (PLEXUS_SFTP_SECRET); undefined when neither names one. `field` names the source in error messages.
 */
export function sftpKeysSecretOf(
  run: DataRun,
  defaultSecret: string | undefined,
): { name: string; field: string } | undefined {
  const fromSpec = run.spec.connections?.sftp?.secretRef.name;
  if (fromSpec !== undefined) return { name: fromSpec, field: 'spec.connections.sftp.secretRef' };
  if (defaultSecret === undefined) return undefined;
  return { name: defaultSecret, field: "the controller's default sftp Secret (PLEXUS_SFTP_SECRET)" };
}

/**
 * The SFTP keys Secret of a run (spec.connections.sftp, else the controller's default), checked: it exists,
 * holds at least one user's key, every user key is a usable private key and known_hosts (if there) parses.
 * Undefined when neither names one. The workers get the user list as it is now: users added to the Secret
 * later reach the next Job.
 */
export async function resolveSftpKeys(
  client: KubeClient,
  run: DataRun,
  defaultSecret?: string,
): Promise<SftpKeys | undefined> {
  const source = sftpKeysSecretOf(run, defaultSecret);
  if (source === undefined) return undefined;
  const { name, field } = source;
  const ns = run.metadata.namespace ?? 'default';
  const secret = await client.get<Secret>(SECRETS, ns, name);
  if (!secret) throw new SpecError('SecretNotFound', `${field}: Secret ${name} not found in ${ns}`);
  const data = secret.data ?? {};
  const users = Object.keys(data)
    .filter((k) => k !== SFTP_KNOWN_HOSTS_KEY)
    .sort();
  if (users.length === 0) {
    throw new SpecError(
      'SecretKeyMissing',
      `${field}: Secret ${name} holds no private key (each key is a user name of the sftp:// URLs and holds that user's private key)`,
    );
  }
  for (const user of users) {
    const why = await privateKeyProblem(Buffer.from(data[user] ?? '', 'base64'));
    if (why !== undefined) {
      throw new SpecError(
        'SecretKeyInvalid',
        `${field}: Secret ${name} key ${user} is not a usable private key: ${why} (an unencrypted OpenSSH or PEM private key is needed)`,
      );
    }
  }
  const knownHosts = data[SFTP_KNOWN_HOSTS_KEY];
  if (knownHosts !== undefined) {
    try {
      parseKnownHosts(Buffer.from(knownHosts, 'base64').toString('utf8'), `Secret ${name} key known_hosts`);
    } catch (err) {
      throw new SpecError('SecretKeyInvalid', `${field}: ${errorMessage(err)}`);
    }
  }
  return { secretName: name, users, knownHosts: knownHosts !== undefined };
}

/**
 * Runs `fn` with a reader of sftp:// URLs that uses the keys of the run's SFTP Secret (spec.connections.sftp,
 * else the controller's default), as its workers will: the controller reads the script, parameters, tag
 * criteria and Python files with it when it validates the run. On the first read the Secret is fetched and
 * its keys written to a private temporary directory (0700, files 0600); every read of `fn` shares them and
 * one connection per server, and the keys are removed when `fn` ends.
 */
export async function withRunSftpReader<T>(
  client: KubeClient,
  run: DataRun,
  fn: (read: (url: string) => Promise<string>) => Promise<T>,
  logger?: Logger,
  defaultSecret?: string,
): Promise<T> {
  let dir: string | undefined;
  let opening: Promise<UrlIo> | undefined;
  const open = async (url: string): Promise<UrlIo> => {
    const source = sftpKeysSecretOf(run, defaultSecret);
    const ns = run.metadata.namespace ?? 'default';
    const secret = source === undefined ? undefined : await client.get<Secret>(SECRETS, ns, source.name);
    if (!secret) {
      throw new SpecError(
        'SecretNotFound',
        source === undefined
          ? `spec.connections.sftp.secretRef: no SFTP keys Secret is named (and the controller has no default, PLEXUS_SFTP_SECRET) to read ${url}`
          : `${source.field}: Secret ${source.name} not found in ${ns}`,
      );
    }
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'plexus-sftp-keys-'));
    const privateKeys: Record<string, string> = {};
    let knownHosts: string | undefined;
    let i = 0;
    for (const [key, b64] of Object.entries(secret.data ?? {})) {
      const file = path.join(dir, key === SFTP_KNOWN_HOSTS_KEY ? 'known_hosts' : `key-${i++}`);
      await fsp.writeFile(file, Buffer.from(b64, 'base64'), { mode: 0o600 });
      if (key === SFTP_KNOWN_HOSTS_KEY) knownHosts = file;
      else privateKeys[key] = file;
    }
    return new UrlIo({ env: {}, sftp: { privateKeys, knownHosts }, ...(logger ? { logger } : {}) });
  };
  try {
    return await fn(async (url) => {
      // a failed opening (e.g. the Secret is missing) is tried again by the next read
      const pending = (opening ??= open(url));
      pending.catch(() => {
        if (opening === pending) opening = undefined;
      });
      return (await pending).readText(url);
    });
  } finally {
    const io = await opening?.catch(() => undefined);
    io?.close();
    if (dir !== undefined) await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** Reads one sftp:// URL with the keys of the run's SFTP Secret (withRunSftpReader). */
export async function readSftpWithRunKeys(
  client: KubeClient,
  run: DataRun,
  url: string,
  logger?: Logger,
  defaultSecret?: string,
): Promise<string> {
  return await withRunSftpReader(client, run, (read) => read(url), logger, defaultSecret);
}

export interface Clients {
  readonly store: CassandraStore;
  readonly queue: RabbitMqQueue;
}

/**
 * Cassandra and RabbitMQ clients of the controller, one pair per distinct connection settings (DataRuns
 * usually share them), closed by `close`.
 */
export class ClientPool {
  private readonly pool = new Map<string, Clients>();

  get(values: Readonly<Record<string, string>>): Clients {
    const key = JSON.stringify(Object.entries(values).sort((a, b) => a[0].localeCompare(b[0])));
    let c = this.pool.get(key);
    if (!c) {
      // settings errors (no contact points, bad URL) name the variable and the Secret key's meaning
      const settings = cassandraSettings({}, values);
      const queueSettings = rabbitMqSettings({}, values);
      c = {
        store: new CassandraStore(settings),
        queue: new RabbitMqQueue({ ...queueSettings, connectionName: 'plexus controller' }),
      };
      this.pool.set(key, c);
    }
    return c;
  }

  async close(): Promise<void> {
    const all = [...this.pool.values()];
    this.pool.clear();
    await Promise.allSettled(all.flatMap((c) => [c.store.close(), c.queue.close()]));
  }
}
