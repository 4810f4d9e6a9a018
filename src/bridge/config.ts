import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import YAML from 'yaml';
import { AggregateUserError, UserInputError } from '../errors/index.js';
import { DEFAULT_BACKOFF, type BackoffSettings } from './backoff.js';
import { DEFAULT_DELIVERY, type DeliverySettings } from './bridge.js';
import type { FsyncPolicy } from './buffer/disk-buffer.js';
import { BridgeConfigSchema, SinkConfig, SourceConfig, type BridgeConfig } from './config-schema.js';

export interface BufferSettings {
  bufferPath: string;
  commitFileBytes: number;
  commitDurationMs: number;
  uploadEveryMs: number;
  maxBufferBytes: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
}

export const DEFAULT_BUFFER: BufferSettings = {
  bufferPath: '/tmp/plexus/buffer',
  commitFileBytes: 64 * 1024 * 1024,
  commitDurationMs: 5 * 60_000,
  uploadEveryMs: 10_000,
  maxBufferBytes: 10 * 1024 * 1024 * 1024,
  fsync: 'always',
  fsyncIntervalMs: 500,
};

/** A validated config with every duration in ms and every size in bytes. */
export interface ResolvedBridgeConfig {
  name: string;
  source: SourceConfig;
  sink: SinkConfig;
  /** Present when a disk buffer is used (always for the s3 sink). */
  buffer: BufferSettings | undefined;
  delivery: DeliverySettings;
  backoff: BackoffSettings;
  errorPolicy: 'stop' | 'deadLetter';
  deadLetter: SinkConfig | undefined;
  shutdownTimeoutMs: number;
  stallTimeoutMs: number;
  raw: BridgeConfig;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1h30m", "250ms", "2.5s" → milliseconds. */
export function parseDuration(text: string, field: string): number {
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (end === 0 || end !== text.length) {
    throw new UserInputError(
      'BRIDGE_CONFIG',
      `${field}: "${text}" is not a duration (examples: 500ms, 10s, 5m, 1h30m)`,
    );
  }
  return Math.round(total);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** "64Mi", "10M", "4096" → bytes. */
export function parseSize(text: string, field: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([KMGT]i?|k)?$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2] ?? ''] : undefined;
  if (!m || unit === undefined) {
    throw new UserInputError(
      'BRIDGE_CONFIG',
      `${field}: "${text}" is not a size (examples: 4096, 512Ki, 64Mi, 1Gi)`,
    );
  }
  return Math.round(Number(m[1]) * unit);
}

function sizeOf(v: number | string | undefined, field: string, numberUnit: number, dflt: number): number {
  if (v === undefined) return dflt;
  return typeof v === 'number' ? Math.round(v * numberUnit) : parseSize(v, field);
}

function durationOf(
  v: number | string | undefined,
  field: string,
  numberUnitMs: number,
  dflt: number,
): number {
  if (v === undefined) return dflt;
  return typeof v === 'number' ? Math.round(v * numberUnitMs) : parseDuration(v, field);
}

const ENV_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of the document with environment values;
 * `$${` writes a literal `${`. An unset variable without a default is an error naming the field.
 */
export function expandEnv(doc: unknown, env: NodeJS.ProcessEnv, problems: string[], at = ''): unknown {
  if (typeof doc === 'string') {
    return expandString(doc, env, problems, at);
  }
  if (Array.isArray(doc)) return doc.map((v, i) => expandEnv(v, env, problems, `${at}[${i}]`));
  if (doc && typeof doc === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) out[k] = expandEnv(v, env, problems, at ? `${at}.${k}` : k);
    return out;
  }
  return doc;
}

function expandString(doc: string, env: NodeJS.ProcessEnv, problems: string[], at: string): string {
  {
    const escaped = doc.split('$${');
    return escaped
      .map((part) =>
        part.replace(ENV_RE, (_all, name: string, dflt: string | undefined) => {
          const v = env[name];
          if (v !== undefined && v !== '') return v;
          if (dflt !== undefined) return dflt;
          problems.push(`${at || '(root)'}: environment variable ${name} is not set`);
          return '';
        }),
      )
      .join('${');
  }
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
}

/**
 * Booleans and numbers written as `${VAR}` arrive as strings: turn them into the type the schema expects
 * at that place (only plain boolean/integer/number fields; unions and strings are left as they are).
 */
export function coerceScalars(doc: unknown, schema: SchemaNode): unknown {
  if (typeof doc === 'string') {
    if (schema.type === 'boolean' && (doc === 'true' || doc === 'false')) return doc === 'true';
    if ((schema.type === 'integer' || schema.type === 'number') && /^-?\d+(\.\d+)?$/.test(doc))
      return Number(doc);
    return doc;
  }
  if (Array.isArray(doc))
    return schema.items ? doc.map((v) => coerceScalars(v, schema.items as SchemaNode)) : doc;
  if (doc && typeof doc === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) {
      const sub =
        schema.properties?.[k] ??
        (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[k] = sub ? coerceScalars(v, sub) : v;
    }
    return out;
  }
  return doc;
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validateSchema = ajv.compile<BridgeConfig>(BridgeConfigSchema);

function pointerToPath(p: string): string {
  if (!p) return '(root)';
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join('')
    .replace(/^\./, '');
}

function describeErrors(errors: ErrorObject[]): string[] {
  const out = new Set<string>();
  // anyOf failures repeat the branch errors; keep the summary line for them.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const e of errors) {
    const where = pointerToPath(e.instancePath);
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath)) continue;
    switch (e.keyword) {
      case 'additionalProperties':
        out.add(
          `${where}: unknown field "${String((e.params as { additionalProperty: string }).additionalProperty)}"`,
        );
        break;
      case 'required':
        out.add(
          `${where}: missing required field "${String((e.params as { missingProperty: string }).missingProperty)}"`,
        );
        break;
      case 'anyOf': {
        const sub = e.schema as Array<{ const?: unknown; pattern?: string; type?: string }>;
        const consts = Array.isArray(sub) ? sub.map((s) => s.const).filter((c) => c !== undefined) : [];
        if (consts.length > 0)
          out.add(`${where}: must be one of ${consts.map((c) => JSON.stringify(c)).join(', ')}`);
        else
          out.add(
            `${where}: ${(e.parentSchema as { description?: string }).description ?? 'has the wrong type or format'}`,
          );
        break;
      }
      default:
        out.add(`${where}: ${e.message ?? 'is invalid'}`);
    }
  }
  return [...out];
}

/** Validates a parsed config document (after env expansion) and resolves units and defaults. */
export function resolveConfig(input: unknown, where = 'bridge config'): ResolvedBridgeConfig {
  const doc = coerceScalars(input, BridgeConfigSchema as SchemaNode);
  if (!validateSchema(doc)) {
    throw new AggregateUserError(
      'BRIDGE_CONFIG',
      describeErrors(validateSchema.errors ?? []).map((p) => `${where}: ${p}`),
    );
  }
  const cfg = doc;
  const problems: string[] = [];
  const check = (prefix: string, block: { type: string } & Record<string, unknown>): void => {
    if (block[block.type] === undefined) {
      // A block whose fields are all optional (stdio) may be left out.
      const role = prefix === 'source' ? SourceConfig : SinkConfig;
      const schema = (role.properties as Record<string, { required?: string[] }>)[block.type];
      if (schema && (schema.required ?? []).length === 0) block[block.type] = {};
      else problems.push(`${prefix}.${block.type}: missing (${prefix}.type is ${block.type})`);
    }
    for (const k of Object.keys(block)) {
      if (k !== 'type' && k !== block.type)
        problems.push(`${prefix}.${k}: not allowed when ${prefix}.type is ${block.type}`);
    }
  };
  check('source', cfg.source);
  check('sink', cfg.sink);
  const onReject = cfg.errorPolicy?.onReject ?? 'stop';
  if (cfg.errorPolicy?.deadLetter) check('errorPolicy.deadLetter', cfg.errorPolicy.deadLetter);
  if (onReject === 'deadLetter' && !cfg.errorPolicy?.deadLetter) {
    problems.push('errorPolicy.deadLetter: missing (errorPolicy.onReject is deadLetter)');
  }
  if (cfg.errorPolicy?.deadLetter?.type === 's3') {
    problems.push(
      'errorPolicy.deadLetter.type: s3 is not offered as a dead-letter target (use rabbitmq, kafka or kinesis)',
    );
  }
  const collect = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (err instanceof UserInputError) problems.push(err.message);
      else throw err;
    }
  };

  let buffer: BufferSettings | undefined;
  if (cfg.sink.type === 's3' || cfg.buffer) {
    const b = cfg.buffer ?? {};
    const s: BufferSettings = { ...DEFAULT_BUFFER };
    collect(
      () => (s.commitFileBytes = sizeOf(b.commitFileSize, 'buffer.commitFileSize', 1024, s.commitFileBytes)),
    );
    collect(
      () =>
        (s.commitDurationMs = durationOf(
          b.commitDuration,
          'buffer.commitDuration',
          60_000,
          s.commitDurationMs,
        )),
    );
    collect(() => (s.uploadEveryMs = durationOf(b.uploadEvery, 'buffer.uploadEvery', 1000, s.uploadEveryMs)));
    collect(
      () => (s.maxBufferBytes = sizeOf(b.maxBufferBytes, 'buffer.maxBufferBytes', 1, s.maxBufferBytes)),
    );
    collect(
      () => (s.fsyncIntervalMs = durationOf(b.fsyncInterval, 'buffer.fsyncInterval', 1, s.fsyncIntervalMs)),
    );
    if (b.bufferPath) s.bufferPath = path.resolve(b.bufferPath);
    if (b.fsync) s.fsync = b.fsync as FsyncPolicy;
    if (s.commitFileBytes <= 0) problems.push('buffer.commitFileSize: must be more than 0');
    if (s.commitDurationMs <= 0) problems.push('buffer.commitDuration: must be more than 0');
    if (s.uploadEveryMs <= 0) problems.push('buffer.uploadEvery: must be more than 0');
    if (s.maxBufferBytes > 0 && s.maxBufferBytes < s.commitFileBytes) {
      problems.push(
        `buffer.maxBufferBytes: ${s.maxBufferBytes} is smaller than commitFileSize (${s.commitFileBytes} bytes)`,
      );
    }
    buffer = s;
  }

  const delivery: DeliverySettings = { ...DEFAULT_DELIVERY };
  const d = cfg.delivery ?? {};
  if (d.maxInFlight !== undefined) delivery.maxInFlight = d.maxInFlight;
  if (d.batchMaxRecords !== undefined) delivery.batchMaxRecords = d.batchMaxRecords;
  if (d.writeConcurrency !== undefined) delivery.writeConcurrency = d.writeConcurrency;
  collect(
    () =>
      (delivery.maxInFlightBytes = sizeOf(
        d.maxInFlightBytes,
        'delivery.maxInFlightBytes',
        1,
        delivery.maxInFlightBytes,
      )),
  );
  collect(
    () =>
      (delivery.batchMaxBytes = sizeOf(d.batchMaxBytes, 'delivery.batchMaxBytes', 1, delivery.batchMaxBytes)),
  );
  collect(() => (delivery.lingerMs = durationOf(d.linger, 'delivery.linger', 1, delivery.lingerMs)));

  const backoff: BackoffSettings = { ...DEFAULT_BACKOFF };
  const bo = cfg.backoff ?? {};
  collect(() => (backoff.initialMs = durationOf(bo.initial, 'backoff.initial', 1, backoff.initialMs)));
  collect(() => (backoff.maxMs = durationOf(bo.max, 'backoff.max', 1, backoff.maxMs)));
  if (bo.multiplier !== undefined) backoff.multiplier = bo.multiplier;
  if (bo.jitter) backoff.jitter = bo.jitter as BackoffSettings['jitter'];
  if (backoff.maxMs < backoff.initialMs)
    problems.push('backoff.max: must not be smaller than backoff.initial');

  let shutdownTimeoutMs = 20_000;
  collect(
    () => (shutdownTimeoutMs = durationOf(cfg.shutdownTimeout, 'shutdownTimeout', 1, shutdownTimeoutMs)),
  );

  let stallTimeoutMs = 300_000;
  collect(() => (stallTimeoutMs = durationOf(cfg.stallTimeout, 'stallTimeout', 1, stallTimeoutMs)));

  collect(() => validateConnectorDurations(cfg));

  if (problems.length > 0)
    throw new AggregateUserError(
      'BRIDGE_CONFIG',
      problems.map((p) => `${where}: ${p}`),
    );
  return {
    name: cfg.name,
    source: cfg.source,
    sink: cfg.sink,
    buffer,
    delivery,
    backoff,
    errorPolicy: onReject,
    deadLetter: cfg.errorPolicy?.deadLetter,
    shutdownTimeoutMs,
    stallTimeoutMs,
    raw: cfg,
  };
}

function validateConnectorDurations(cfg: BridgeConfig): void {
  const ws = cfg.source.websocket;
  if (
    ws?.reconnectEvery !== undefined &&
    parseDuration(ws.reconnectEvery, 'source.websocket.reconnectEvery') < 1000
  ) {
    throw new UserInputError('BRIDGE_CONFIG', 'source.websocket.reconnectEvery: must be at least 1s');
  }
}

/** Reads a YAML or JSON bridge config file, expands `${ENV}` references, validates and resolves it. */
export function loadBridgeConfig(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedBridgeConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserInputError(
      'BRIDGE_CONFIG',
      `${file}: cannot read the bridge config (${(err as Error).message})`,
    );
  }
  return parseBridgeConfig(text, file, env);
}

export function parseBridgeConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedBridgeConfig {
  let doc: unknown;
  const yamlDoc = YAML.parseDocument(text, { prettyErrors: true });
  if (yamlDoc.errors.length > 0) {
    throw new AggregateUserError(
      'BRIDGE_CONFIG',
      yamlDoc.errors.map((e) => `${file}: ${e.message.split('\n')[0] ?? e.message}`),
    );
  }
  doc = yamlDoc.toJS() as unknown;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserInputError('BRIDGE_CONFIG', `${file}: expected a mapping with name, source and sink`);
  }
  const problems: string[] = [];
  doc = expandEnv(doc, env, problems);
  if (problems.length > 0)
    throw new AggregateUserError(
      'BRIDGE_CONFIG',
      problems.map((p) => `${file}: ${p}`),
    );
  return resolveConfig(doc, file);
}
