import type { Script } from './model.js';
import { Problems, ScriptError } from './problems.js';
import { readScriptSource, type LoadOptions } from './source.js';
import { buildScript } from './validate.js';

/**
 * Loads a script the way Capillaries does (fetch, template parameters, parse JSON/YAML) and checks all of it before
 * any data is touched. Throws ScriptError listing every problem (file, path, message); a TransientError from
 * `readText` is passed through so the caller can retry.
 */
export async function loadScript(opts: LoadOptions): Promise<Script> {
  const problems = new Problems();
  const src = await readScriptSource(opts, problems);
  if (!src) {
    problems.throwIfAny();
    throw new ScriptError([{ file: opts.scriptUrl, path: '', message: 'the script could not be read' }]);
  }
  const script = await buildScript(src, problems, opts.readText);
  problems.throwIfAny();
  if (!script) throw new ScriptError([{ file: src.file, path: '', message: 'the script is not valid' }]);
  return script;
}
