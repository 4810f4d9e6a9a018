export { ScriptError, formatProblem, type ScriptProblem } from './problems.js';
export { readScriptSource, type LoadOptions, type ScriptSource } from './source.js';
export { formatNumberParam, normalizeReferences, RESERVED_PARAMS, type ParamType } from './template.js';
