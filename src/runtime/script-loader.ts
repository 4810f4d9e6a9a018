import { UserInputError } from '../errors/index.js';
import { loadScript, type Script } from '../script/index.js';
import { keepsRunOverrides, type Store } from '../store/index.js';

export interface RunScriptLoaderOptions {
  readonly readText: (url: string) => Promise<string>;
  /**
   * `--param` style overrides for runs whose store does not record them; overrides recorded with the run
   * (stores that keep them) take precedence.
   */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Loaded scripts kept (least recently used dropped first); default 50. */
  readonly cacheSize?: number;
}

/**
 * `getScript` for batch handlers in workers: loads the script of a run from the script and params URLs in
 * its run properties, once per run (cached; a failed load is not cached, so a transient error is retried).
 */
export function runScriptLoader(
  store: Store,
  opts: RunScriptLoaderOptions,
): (ks: string, runId: number) => Promise<Script> {
  const cache = new Map<string, Promise<Script>>();
  const max = Math.max(1, opts.cacheSize ?? 50);
  return (ks, runId) => {
    const key = `${ks}/${runId}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const p = (async () => {
      const props = (await store.getRunProperties(ks)).find((r) => r.runId === runId);
      if (!props) throw new UserInputError('UNKNOWN_RUN', `keyspace ${ks} has no run ${runId}`);
      // overrides recorded with the run (distributed stores) win over the loader's own
      const recorded = keepsRunOverrides(store) ? await store.getRunOverrides(ks, runId) : {};
      const overrides = { ...opts.overrides, ...recorded };
      return loadScript({
        scriptUrl: props.scriptUrl,
        paramsUrl: props.paramsUrl === '' ? undefined : props.paramsUrl,
        overrides: Object.keys(overrides).length > 0 ? overrides : undefined,
        readText: opts.readText,
      });
    })();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
    while (cache.size > max) cache.delete(cache.keys().next().value as string);
    return p;
  };
}
