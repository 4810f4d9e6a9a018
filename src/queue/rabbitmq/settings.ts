import { AggregateUserError } from '../../errors/index.js';

export interface RabbitMqSettings {
  /** amqp[s]://user:password@host:port/vhost */
  readonly url: string;
  /** First part of every queue and exchange name (default `plexus`): `<prefix>.<keyspace>...`. */
  readonly prefix: string;
  /** How long a publish waits for the broker (connection and confirms) before it fails (default 60000). */
  readonly publishTimeoutMs: number;
  /** AMQP heartbeat in seconds (default 10): a dead broker connection is noticed within about twice that. */
  readonly heartbeatSeconds: number;
  /** Shown by the broker's management UI for this client's connection. */
  readonly connectionName?: string;
}

export const RABBITMQ_ENV = {
  url: 'PLEXUS_RABBITMQ_URL',
  prefix: 'PLEXUS_RABBITMQ_PREFIX',
  publishTimeoutMs: 'PLEXUS_RABBITMQ_PUBLISH_TIMEOUT_MS',
  heartbeatSeconds: 'PLEXUS_RABBITMQ_HEARTBEAT',
} as const;

export type RabbitMqSettingsInput = {
  -readonly [K in Exclude<keyof RabbitMqSettings, 'connectionName'>]?: string | undefined;
};

/** Settings from explicit values (flags) over environment variables over defaults; all problems at once. */
export function rabbitMqSettings(
  explicit: RabbitMqSettingsInput = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): RabbitMqSettings {
  const problems: string[] = [];
  const pick = (k: keyof typeof RABBITMQ_ENV): string | undefined => {
    const v = explicit[k] ?? env[RABBITMQ_ENV[k]];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const url = pick('url');
  if (url === undefined) {
    problems.push(
      `no RabbitMQ URL: set ${RABBITMQ_ENV.url} (amqp://user:password@host:5672/vhost) or --rabbitmq`,
    );
  } else if (!/^amqps?:\/\/[^\s]+$/.test(url)) {
    problems.push(`${RABBITMQ_ENV.url}: not an amqp:// or amqps:// URL`);
  }
  const prefix = pick('prefix') ?? 'plexus';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    problems.push(
      `${RABBITMQ_ENV.prefix}: ${JSON.stringify(prefix)} must be 1-64 characters from A-Z a-z 0-9 _ . -`,
    );
  }
  const int = (k: keyof typeof RABBITMQ_ENV, def: number, min: number, max: number): number => {
    const v = pick(k);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${RABBITMQ_ENV[k]}: ${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
      return def;
    }
    return n;
  };
  const publishTimeoutMs = int('publishTimeoutMs', 60_000, 100, 3_600_000);
  const heartbeatSeconds = int('heartbeatSeconds', 10, 0, 600);
  if (problems.length > 0) throw new AggregateUserError('RABBITMQ_SETTINGS', problems);
  return { url: url!, prefix, publishTimeoutMs, heartbeatSeconds };
}

/** Hides the password of an AMQP URL in messages. */
export function redactAmqpUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
