/**
 * AST of the Go expression subset (positions are 0-based character offsets, `end` is exclusive).
 *
 * | kind       | shape                                   | example              |
 * |------------|-----------------------------------------|----------------------|
 * | `int`      | `text` (literal as written)             | `42`, `0x1F` (rejected later) |
 * | `float`    | `text`                                  | `1.5`, `.5`, `1e3`   |
 * | `string`   | `raw` (backquoted?), `text` (as written, with quotes), `value` (Capillaries value) | `"a"`, `` `a` `` |
 * | `ident`    | `name`                                  | `true`, `x`          |
 * | `selector` | `x` (operand), `name`, `namePos`        | `r.price`, `time.UTC` |
 * | `call`     | `fn`, `args`, `ellipsis` (`f(x...)`)    | `len(r.s)`           |
 * | `unary`    | `op` (`!` or `-`), `x`                  | `-r.qty`             |
 * | `binary`   | `op`, `opPos`, `x`, `y`                 | `a + b`              |
 * | `paren`    | `x`                                     | `(a)`                |
 */
export type BinaryOp =
  | '||'
  | '&&'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '|'
  | '^'
  | '*'
  | '/'
  | '%'
  | '<<'
  | '>>'
  | '&'
  | '&^';

export type UnaryOp = '!' | '-';

interface Base {
  readonly pos: number;
  readonly end: number;
}

export interface IntLit extends Base {
  readonly kind: 'int';
  readonly text: string;
}
export interface FloatLit extends Base {
  readonly kind: 'float';
  readonly text: string;
}
export interface StringLit extends Base {
  readonly kind: 'string';
  readonly raw: boolean;
  readonly text: string;
  /** The value Capillaries gives the literal: surrounding quotes trimmed, escape sequences kept verbatim. */
  readonly value: string;
}
export interface Ident extends Base {
  readonly kind: 'ident';
  readonly name: string;
}
export interface Selector extends Base {
  readonly kind: 'selector';
  readonly x: ExprNode;
  readonly name: string;
  readonly namePos: number;
}
export interface Call extends Base {
  readonly kind: 'call';
  readonly fn: ExprNode;
  readonly args: readonly ExprNode[];
  readonly ellipsis: boolean;
}
export interface Unary extends Base {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly x: ExprNode;
}
export interface Binary extends Base {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly opPos: number;
  readonly x: ExprNode;
  readonly y: ExprNode;
}
export interface Paren extends Base {
  readonly kind: 'paren';
  readonly x: ExprNode;
}

export type ExprNode = IntLit | FloatLit | StringLit | Ident | Selector | Call | Unary | Binary | Paren;

/** Go binary operator precedence (higher binds tighter). */
export const PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '|': 4,
  '^': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '<<': 5,
  '>>': 5,
  '&': 5,
  '&^': 5,
};

/** Print an AST back as Go source (canonical spacing), e.g. for messages and tests. */
export function formatNode(n: ExprNode): string {
  switch (n.kind) {
    case 'int':
    case 'float':
    case 'string':
      return n.text;
    case 'ident':
      return n.name;
    case 'selector':
      return `${formatNode(n.x)}.${n.name}`;
    case 'call':
      return `${formatNode(n.fn)}(${n.args.map(formatNode).join(', ')}${n.ellipsis ? '...' : ''})`;
    case 'unary':
      return `${n.op}${formatNode(n.x)}`;
    case 'binary':
      return `${formatNode(n.x)} ${n.op} ${formatNode(n.y)}`;
    case 'paren':
      return `(${formatNode(n.x)})`;
  }
}
