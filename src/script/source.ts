import { isTransient } from '../errors/index.js';
import { checkParamsObject, resolveParams } from './params.js';
import { dropNulls, formatOf, formatProblemText, parseText, type DocFormat } from './parse.js';
import { describeError, fileLabel, Problems } from './problems.js';
import { normalizeReferences, renderTemplate, scanReferences } from './template.js';

export interface LoadOptions {
  scriptUrl: string;
  paramsUrl?: string;
  /** `--param key=value` overrides; always text, read as the type the script uses the parameter as. */
  overrides?: Record<string, string>;
  /** The only way loading reads anything: script, params file, tag criteria files, Python code files. */
  readText(url: string): Promise<string>;
}

/** The script after templating and parsing, before its structure is checked. */
export interface ScriptSource {
  scriptUrl: string;
  paramsUrl?: string;
  /** File name used in messages (`script.yaml`). */
  file: string;
  format: DocFormat;
  /** Script text after parameter substitution (reserved `{batch_idx|string}`/`{run_id|string}` kept). */
  text: string;
  /** Parsed document, with JSON semantics and null members dropped. */
  data: unknown;
  /** Effective parameter values (params file, then overrides). */
  params: Record<string, unknown>;
  /** Reserved references kept in the text: name → lines. */
  reservedKept: Map<string, number[]>;
}

/** Reads a file through `readText`; a transient failure is rethrown as is (the caller may retry). */
export async function readOrReport(
  readText: (url: string) => Promise<string>,
  url: string,
  problems: Problems,
  file: string,
  path: string,
  what: string,
): Promise<string | undefined> {
  try {
    return await readText(url);
  } catch (e) {
    if (isTransient(e)) throw e;
    problems.add(file, path, `cannot read ${what} ${url}: ${describeError(e)}`);
    return undefined;
  }
}

/**
 * Steps 1–3 of the loading pipeline: fetch script and params, substitute parameters in the raw script text, parse
 * JSON/YAML. Throws ScriptError with every problem found so far if the script cannot be parsed.
 */
export async function readScriptSource(
  opts: LoadOptions,
  problems: Problems,
): Promise<ScriptSource | undefined> {
  const file = fileLabel(opts.scriptUrl);
  const format = formatOf(opts.scriptUrl);
  if (!format) problems.add(file, '', formatProblemText(opts.scriptUrl));

  let fileParams: Record<string, unknown> = {};
  const paramsFile = opts.paramsUrl ? fileLabel(opts.paramsUrl) : '';
  if (opts.paramsUrl) {
    const pformat = formatOf(opts.paramsUrl);
    if (!pformat) problems.add(paramsFile, '', formatProblemText(opts.paramsUrl));
    const ptext = await readOrReport(opts.readText, opts.paramsUrl, problems, paramsFile, '', 'params file');
    if (ptext !== undefined && pformat) {
      const pdata = parseText(ptext, pformat, paramsFile, problems);
      if (pdata !== undefined) fileParams = checkParamsObject(pdata, paramsFile, problems);
    }
  }

  const raw = await readOrReport(opts.readText, opts.scriptUrl, problems, file, '', 'script');
  if (raw === undefined || !format) return undefined;

  const normalized = normalizeReferences(raw);
  const usage = scanReferences(normalized);
  const { resolved, values } = resolveParams(
    fileParams,
    paramsFile || 'the params file',
    opts.overrides,
    usage,
    file,
    problems,
  );
  const rendered = renderTemplate(normalized, resolved);
  for (const p of rendered.problems) problems.add(file, p.line > 0 ? `line ${p.line}` : '', p.message);
  for (const odd of rendered.oddReferences) {
    problems.warn(
      file,
      `line ${odd.line}`,
      `${odd.text} looks like a parameter reference with an unknown type (string, number, bool, stringlist); left as is`,
    );
  }
  // Parameter problems make the text meaningless to parse (unresolved references, unquoted numbers).
  if (problems.size > 0) return undefined;

  const hint = (line: number): string => {
    const names = rendered.paramsByLine.get(line);
    return names && names.length > 0
      ? ` (this line has parameter ${names.map((n) => `{${n}}`).join(', ')} substituted; its value is inserted ` +
          'verbatim, so quotes or backslashes in it must suit the file format)'
      : '';
  };
  const parsed = parseText(rendered.text, format, file, problems, hint);
  if (parsed === undefined) return undefined;

  const src: ScriptSource = {
    scriptUrl: opts.scriptUrl,
    file,
    format,
    text: rendered.text,
    data: dropNulls(parsed),
    params: values,
    reservedKept: rendered.reservedKept,
  };
  if (opts.paramsUrl) src.paramsUrl = opts.paramsUrl;
  return src;
}
