/**
 * The script and parameters of a DataRun: read from a ConfigMap key, the inline text or a URL, then
 * validated by loading the script exactly as the workers will. ConfigMap and inline texts are copied into a
 * snapshot ConfigMap owned by the DataRun and mounted into the worker pods, so the workers read the text the
 * controller validated even if the source ConfigMap changes later.
 */
import type { DataRun, ParamsSource, ScriptSource } from '../../api/index.js';
import { errorMessage, isTransient, PlexusError } from '../../errors/index.js';
import { loadScript, ScriptError, type Script } from '../../script/index.js';
import type { KubeClient, KubeObject } from '../kube-client.js';
import { CONFIGMAPS } from '../kube-client.js';

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** One resolved source: where the workers read it and, for ConfigMap/inline sources, its text. */
export interface ResolvedSource {
  /** spec field, for messages: spec.script or spec.params */
  readonly field: string;
  /** URL the workers load (a file in the snapshot mount, or the spec's URL). */
  readonly url: string;
  /** Text for the snapshot ConfigMap (absent for URL sources, which the workers read themselves). */
  readonly snapshot?: { readonly key: string; readonly text: string };
}

/** A spec problem the user must fix: the DataRun fails with this message (no retry). */
export class SpecError extends PlexusError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super('DATARUN_INVALID', message);
  }
}

/** The format suffix of a text: kept from the key/URL when it has one, else guessed from the first character. */
export function formatSuffix(nameHint: string, text: string | undefined): '.json' | '.yaml' {
  if (/\.json$/i.test(nameHint)) return '.json';
  if (/\.ya?ml$/i.test(nameHint)) return '.yaml';
  return text !== undefined && text.trimStart().startsWith('{') ? '.json' : '.yaml';
}

/**
 * Resolves one source. ConfigMap keys must exist (a missing ConfigMap or key is a SpecError naming the
 * field); URL sources are read by `readText` for validation.
 */
export async function resolveSource(
  client: KubeClient,
  namespace: string,
  field: 'spec.script' | 'spec.params',
  source: ScriptSource | ParamsSource,
  mountDir: string,
  snapshot: Readonly<Record<string, string>> = {},
): Promise<ResolvedSource> {
  const base = field === 'spec.script' ? 'script' : 'params';
  if (source.url !== undefined) return { field, url: source.url };
  const dir = mountDir.replace(/\/+$/, '');
  // once copied, the snapshot is what the workers read: validate that, not the source as it is now
  for (const key of [`${base}.json`, `${base}.yaml`]) {
    const text = snapshot[key];
    if (text !== undefined) return { field, url: `${dir}/${key}`, snapshot: { key, text } };
  }
  let text: string;
  let hint = '';
  if (source.inline !== undefined) {
    text = source.inline;
  } else if (source.configMapKeyRef) {
    const { name, key } = source.configMapKeyRef;
    const cm = await client.get<ConfigMap>(CONFIGMAPS, namespace, name);
    if (!cm)
      throw new SpecError('ConfigMapNotFound', `${field}.configMapKeyRef: ConfigMap ${name} not found`);
    const value = cm.data?.[key] ?? decodeBinary(cm.binaryData?.[key]);
    if (value === undefined) {
      throw new SpecError(
        'ConfigMapKeyNotFound',
        `${field}.configMapKeyRef: ConfigMap ${name} has no key ${key} (keys: ${Object.keys(cm.data ?? {}).join(', ') || 'none'})`,
      );
    }
    text = value;
    hint = key;
  } else {
    throw new SpecError('InvalidSource', `${field}: set exactly one of configMapKeyRef, inline or url`);
  }
  const key = `${base}${formatSuffix(hint, text)}`;
  return { field, url: `${dir}/${key}`, snapshot: { key, text } };
}

function decodeBinary(b64: string | undefined): string | undefined {
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

export interface ResolvedRun {
  readonly script: ResolvedSource;
  readonly params?: ResolvedSource;
  readonly overrides: Readonly<Record<string, string>>;
  readonly loaded: Script;
}

/**
 * Resolves and validates the script of a DataRun. `readUrl` reads URL sources (and files the script refers
 * to). Every problem becomes a SpecError whose message names the field (and, for script errors, the node).
 */
export async function resolveRun(
  client: KubeClient,
  run: DataRun,
  mountDir: string,
  readUrl: (url: string) => Promise<string>,
  snapshot: Readonly<Record<string, string>> = {},
): Promise<ResolvedRun> {
  const ns = run.metadata.namespace ?? 'default';
  const script = await resolveSource(client, ns, 'spec.script', run.spec.script, mountDir, snapshot);
  const params = run.spec.params
    ? await resolveSource(client, ns, 'spec.params', run.spec.params, mountDir, snapshot)
    : undefined;
  const texts = new Map<string, string>();
  for (const s of [script, params]) if (s?.snapshot) texts.set(s.url, s.snapshot.text);
  const overrides = { ...(run.spec.paramOverrides ?? {}) };
  let loaded: Script;
  try {
    loaded = await loadScript({
      scriptUrl: script.url,
      paramsUrl: params?.url,
      overrides: Object.keys(overrides).length > 0 ? overrides : undefined,
      readText: async (url) => texts.get(url) ?? (await readUrl(url)),
    });
  } catch (err) {
    // a network hiccup reading a URL is retried; anything else is the user's to fix
    if (isTransient(err)) throw err;
    const reason = err instanceof ScriptError ? 'InvalidScript' : 'ScriptUnreadable';
    throw new SpecError(reason, `spec.script: ${errorMessage(err)}`);
  }
  const unknown = run.spec.startNodes.filter((n) => !loaded.nodes.has(n));
  if (unknown.length > 0) {
    throw new SpecError(
      'UnknownStartNode',
      `spec.startNodes: ${unknown.join(', ')} not in the script (nodes: ${[...loaded.nodes.keys()].join(', ')})`,
    );
  }
  return { script, ...(params ? { params } : {}), overrides, loaded };
}
