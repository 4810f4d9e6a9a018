import { UserInputError } from '../errors/index.js';

/**
 * A problem in an expression: syntax, type, or a run-time failure (integer divide by zero, a string that
 * does not parse, ...). `pos` is the 0-based character offset in `source` where the problem is; the
 * message ends with "at <pos>" so a person can find it. Callers (script validation, engine) prefix the
 * node and field name.
 */
export class ExprError extends UserInputError {
  readonly pos: number;
  readonly source: string;
  readonly detail: string;

  constructor(detail: string, pos: number, source: string, code = 'EXPR') {
    super(code, `${detail} at ${pos}`);
    this.pos = pos;
    this.source = source;
    this.detail = detail;
  }

  /** The source with a caret under the error position (for terminal output). */
  excerpt(): string {
    return `${this.source}\n${' '.repeat(Math.max(0, Math.min(this.pos, this.source.length)))}^`;
  }
}
