import { AggregateUserError } from '../errors/index.js';

/** One thing wrong with a script, a params file or an override, located as precisely as we can. */
export interface ScriptProblem {
  /** File name as the user knows it (last segment of the URL), or `--param name` for an override. */
  file: string;
  /** Dotted path inside the file (`nodes.read_orders.w.fields.value.expression`), `line N` for raw text, or ''. */
  path: string;
  message: string;
}

export function formatProblem(p: ScriptProblem): string {
  return p.path ? `${p.file}: ${p.path}: ${p.message}` : `${p.file}: ${p.message}`;
}

/** Every problem found while loading a script, reported at once (one line each, in `message` and `problems`). */
export class ScriptError extends AggregateUserError {
  readonly details: readonly ScriptProblem[];

  constructor(details: readonly ScriptProblem[]) {
    super('SCRIPT_INVALID', details.map(formatProblem));
    this.details = details;
  }
}

/** Collects problems for one file; `throwIfAny` raises them together as a ScriptError. */
export class Problems {
  readonly list: ScriptProblem[] = [];
  readonly warnings: string[] = [];

  add(file: string, path: string, message: string): void {
    if (this.list.some((p) => p.file === file && p.path === path && p.message === message)) return;
    this.list.push({ file, path, message });
  }

  warn(file: string, path: string, message: string): void {
    const text = formatProblem({ file, path, message });
    if (!this.warnings.includes(text)) this.warnings.push(text);
  }

  get size(): number {
    return this.list.length;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new ScriptError(this.list);
  }
}

/** Last path segment of a URL or file path, without query string: what we call the file in messages. */
export function fileLabel(url: string): string {
  const noQuery = url.replace(/[?#].*$/, '');
  const seg = noQuery.split(/[/\\]/).filter((s) => s !== '');
  return seg[seg.length - 1] ?? url;
}

/** Joins path segments: `nodes` + `read orders` → `nodes.read orders`; numbers become `[i]`. */
export function joinPath(...segs: readonly (string | number)[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (s !== '') out += out === '' ? s : `.${s}`;
  }
  return out;
}

/**
 * The message of anything thrown, also for errors from another realm (a test VM, a worker) that fail
 * `instanceof Error`.
 */
export function describeError(e: unknown): string {
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}
