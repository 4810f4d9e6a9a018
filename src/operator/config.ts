/**
 * The controller's configuration, from environment variables (the chart sets them). Every problem is
 * reported at once, naming the variable.
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | PLEXUS_WATCH_NAMESPACE | namespace whose resources are reconciled; empty: all | (all) |
 * | POD_NAMESPACE | the controller's own namespace (holds the Lease) | in-cluster namespace, else `default` |
 * | POD_NAME | identity in leader election and events | host name |
 * | PLEXUS_LEADER_ELECT | `true`/`false`: run leader election | `true` |
 * | PLEXUS_LEASE_NAME | Lease name | `plexus-operator` |
 * | PLEXUS_LEASE_DURATION, PLEXUS_RENEW_DEADLINE, PLEXUS_RETRY_PERIOD | leader election timings | `15s`, `10s`, `2s` |
 * | PLEXUS_RESYNC_PERIOD | periodic re-reconcile of every object | `10m` |
 * | PLEXUS_RECONCILE_WORKERS | keys reconciled in parallel per controller | `2` |
 * | PLEXUS_HEALTH_PORT | port of /metrics, /healthz, /readyz | `8080` |
 * | PLEXUS_IMAGE | image of workers and bridges when a resource names none | (none) |
 * | PLEXUS_CASSANDRA_SECRET, PLEXUS_RABBITMQ_SECRET, PLEXUS_S3_SECRET | default connection Secrets (by name, in the resource's namespace) | (none) |
 * | PLEXUS_SFTP_SECRET | default SFTP keys Secret of DataRuns without spec.connections.sftp (by name, in the DataRun's namespace) | (none) |
 */
import fs from 'node:fs';
import os from 'node:os';
import { AggregateUserError } from '../errors/index.js';

export interface OperatorConfig {
  watchNamespace?: string;
  namespace: string;
  identity: string;
  leaderElection: boolean;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  resyncPeriodMs: number;
  reconcileWorkers: number;
  healthPort: number;
  image?: string;
  defaultSecrets: { cassandra?: string; rabbitmq?: string; s3?: string; sftp?: string };
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style duration ("1h30m", "15s", "250ms") in milliseconds, or undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g))
    total += Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 0);
  return total;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Reads the in-cluster namespace file (tests pass a stub). */
  readNamespaceFile?: () => string | undefined;
  hostname?: () => string;
}

export function operatorConfigFromEnv(sources: ConfigSources = {}): OperatorConfig {
  const env = sources.env ?? process.env;
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const duration = (name: string, fallback: string) => {
    const text = get(name) ?? fallback;
    const ms = parseDurationMs(text);
    if (ms === undefined || ms <= 0) {
      problems.push(`${name}: "${text}" is not a duration such as 15s, 2m or 1h30m`);
      return parseDurationMs(fallback) ?? 0;
    }
    return ms;
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const text = get(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: "${text}" must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const name = (variable: string, pattern: RegExp, what: string) => {
    const v = get(variable);
    if (v !== undefined && (!pattern.test(v) || v.length > 253)) {
      problems.push(`${variable}: "${v}" is not a valid ${what}`);
      return undefined;
    }
    return v;
  };

  const readNs =
    sources.readNamespaceFile ??
    (() =>
      fs.existsSync(SERVICE_ACCOUNT_NAMESPACE)
        ? fs.readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim()
        : undefined);
  const namespace = name('POD_NAMESPACE', DNS_LABEL, 'namespace name') ?? readNs() ?? 'default';
  const leaderText = (get('PLEXUS_LEADER_ELECT') ?? 'true').toLowerCase();
  if (!['true', 'false'].includes(leaderText))
    problems.push(`PLEXUS_LEADER_ELECT: "${leaderText}" must be true or false`);

  const config: OperatorConfig = {
    namespace,
    identity: get('POD_NAME') ?? (sources.hostname ?? os.hostname)(),
    leaderElection: leaderText !== 'false',
    leaseName: name('PLEXUS_LEASE_NAME', DNS_SUBDOMAIN, 'Lease name') ?? 'plexus-operator',
    leaseDurationMs: duration('PLEXUS_LEASE_DURATION', '15s'),
    renewDeadlineMs: duration('PLEXUS_RENEW_DEADLINE', '10s'),
    retryPeriodMs: duration('PLEXUS_RETRY_PERIOD', '2s'),
    resyncPeriodMs: duration('PLEXUS_RESYNC_PERIOD', '10m'),
    reconcileWorkers: integer('PLEXUS_RECONCILE_WORKERS', 2, 1, 64),
    healthPort: integer('PLEXUS_HEALTH_PORT', 8080, 0, 65535),
    defaultSecrets: {},
  };
  const watch = name('PLEXUS_WATCH_NAMESPACE', DNS_LABEL, 'namespace name');
  if (watch) config.watchNamespace = watch;
  const image = get('PLEXUS_IMAGE');
  if (image) config.image = image;
  for (const [key, variable] of [
    ['cassandra', 'PLEXUS_CASSANDRA_SECRET'],
    ['rabbitmq', 'PLEXUS_RABBITMQ_SECRET'],
    ['s3', 'PLEXUS_S3_SECRET'],
    ['sftp', 'PLEXUS_SFTP_SECRET'],
  ] as const) {
    const secret = name(variable, DNS_SUBDOMAIN, 'Secret name');
    if (secret) config.defaultSecrets[key] = secret;
  }
  if (
    config.leaderElection &&
    !(config.leaseDurationMs > config.renewDeadlineMs && config.renewDeadlineMs > config.retryPeriodMs)
  ) {
    problems.push(
      'PLEXUS_LEASE_DURATION > PLEXUS_RENEW_DEADLINE > PLEXUS_RETRY_PERIOD must hold ' +
        `(got ${config.leaseDurationMs} ms, ${config.renewDeadlineMs} ms, ${config.retryPeriodMs} ms)`,
    );
  }
  if (problems.length > 0) throw new AggregateUserError('INVALID_OPERATOR_CONFIG', problems);
  return config;
}
