import type { BinaryOp, ExprNode, StringLit } from './ast.js';
import { PRECEDENCE } from './ast.js';
import { ExprError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

const UNSUPPORTED_UNARY: Readonly<Record<string, string>> = {
  '+': "unary '+' is not supported (only '-' and '!')",
  '^': "bitwise complement '^' is not supported",
  '*': "pointer dereference '*' is not supported",
  '&': "address operator '&' is not supported",
  '<-': "channel receive '<-' is not supported",
  '~': "'~' is not supported",
};

/**
 * Parse one Go expression (the subset Capillaries evaluates: literals, identifiers, selectors, calls,
 * unary `!` and `-`, binary operators with Go precedence, parentheses). Everything else that Go would
 * parse (index/slice expressions, composite and function literals, type assertions, other unary
 * operators) is rejected here with a message naming the construct; invalid Go is rejected like
 * go/parser.ParseExpr does. Bitwise/shift operators parse and are rejected by the type checker.
 */
export function parseExpression(source: string): ExprNode {
  const toks = tokenize(source);
  let k = 0;
  const tok = (): Token => toks[k] as Token;
  const fail = (msg: string, pos: number): never => {
    throw new ExprError(msg, pos, source, 'EXPR_SYNTAX');
  };
  const describe = (t: Token): string => {
    if (t.kind === 'eof') return 'end of expression';
    if (t.kind === 'semi') return t.text === '\n' ? 'newline' : t.text === '' ? 'end of expression' : "';'";
    return `'${t.text}'`;
  };
  const unexpected = (t: Token, what?: string): never =>
    fail(what ? `unexpected ${describe(t)}, expected ${what}` : `unexpected ${describe(t)}`, t.pos);
  const isOp = (t: Token, op: string): boolean => t.kind === 'op' && t.text === op;

  function parseBinary(prec1: number): ExprNode {
    let x = parseUnary();
    for (;;) {
      const t = tok();
      if (t.kind !== 'op') return x;
      const prec = (PRECEDENCE as Record<string, number | undefined>)[t.text];
      if (prec === undefined || prec < prec1) return x;
      k++;
      const y = parseBinary(prec + 1);
      x = { kind: 'binary', op: t.text as BinaryOp, opPos: t.pos, x, y, pos: x.pos, end: y.end };
    }
  }

  function parseUnary(): ExprNode {
    const t = tok();
    if (t.kind === 'op') {
      if (t.text === '!' || t.text === '-') {
        k++;
        const x = parseUnary();
        return { kind: 'unary', op: t.text, x, pos: t.pos, end: x.end };
      }
      const why = UNSUPPORTED_UNARY[t.text];
      if (why !== undefined) fail(why, t.pos);
    }
    return parsePrimary();
  }

  function parsePrimary(): ExprNode {
    let x = parseOperand();
    for (;;) {
      const t = tok();
      if (isOp(t, '.')) {
        k++;
        const n = tok();
        if (n.kind === 'ident') {
          k++;
          x = { kind: 'selector', x, name: n.text, namePos: n.pos, pos: x.pos, end: n.end };
          continue;
        }
        if (n.kind === 'keyword') fail(`'${n.text}' is a Go keyword and cannot be used as a name`, n.pos);
        if (isOp(n, '(')) fail('type assertions are not supported', n.pos);
        unexpected(n, 'name after .');
      } else if (isOp(t, '(')) {
        k++;
        const args: ExprNode[] = [];
        let ellipsis = false;
        while (!isOp(tok(), ')')) {
          args.push(parseBinary(1));
          if (isOp(tok(), '...')) {
            ellipsis = true;
            k++;
          }
          if (isOp(tok(), ',')) {
            k++;
            continue;
          }
          if (!isOp(tok(), ')')) {
            const u = tok();
            if (u.kind === 'semi' && u.text === '\n')
              fail('unexpected newline in argument list; possibly missing comma or )', u.pos);
            unexpected(u, "',' or ')'");
          }
        }
        const close = tok();
        k++;
        x = { kind: 'call', fn: x, args, ellipsis, pos: x.pos, end: close.end };
      } else if (isOp(t, '[')) {
        fail('index and slice expressions (a[i]) are not supported', t.pos);
      } else if (isOp(t, '{')) {
        fail('composite literals are not supported', t.pos);
      } else {
        return x;
      }
    }
  }

  function parseOperand(): ExprNode {
    const t = tok();
    switch (t.kind) {
      case 'ident':
        k++;
        return { kind: 'ident', name: t.text, pos: t.pos, end: t.end };
      case 'int':
        k++;
        return { kind: 'int', text: t.text, pos: t.pos, end: t.end };
      case 'float':
        k++;
        return { kind: 'float', text: t.text, pos: t.pos, end: t.end };
      case 'imag':
        return fail(`imaginary literal ${t.text} is not supported`, t.pos);
      case 'char':
        return fail(`character literal ${t.text} is not supported (use a string in double quotes)`, t.pos);
      case 'string':
        k++;
        return stringLit(t);
      case 'keyword':
        if (t.text === 'func') return fail('function literals are not supported', t.pos);
        if (t.text === 'map' || t.text === 'chan' || t.text === 'struct' || t.text === 'interface')
          return fail(`${t.text} types are not supported`, t.pos);
        return fail(`'${t.text}' is a Go keyword and cannot be used in an expression`, t.pos);
      case 'op':
        if (t.text === '(') {
          k++;
          const x = parseBinary(1);
          const close = tok();
          if (!isOp(close, ')')) unexpected(close, "')'");
          k++;
          return { kind: 'paren', x, pos: t.pos, end: close.end };
        }
        if (t.text === '[') return fail('array, slice and map types are not supported', t.pos);
        return unexpected(t);
      default:
        return unexpected(t, 'an operand');
    }
  }

  const root = parseBinary(1);
  // go/parser.ParseExpr consumes one automatically inserted semicolon, then requires the end.
  if (tok().kind === 'semi' && (tok().text === '\n' || tok().text === '')) k++;
  const last = tok();
  if (last.kind !== 'eof') unexpected(last);
  return root;
}

function stringLit(t: Token): StringLit {
  const raw = t.text.startsWith('`');
  // Capillaries keeps escape sequences verbatim and trims the quote characters from both ends.
  const value = raw ? t.text.slice(1, -1).replace(/\r/g, '') : trimQuotes(t.text);
  return { kind: 'string', raw, text: t.text, value, pos: t.pos, end: t.end };
}

function trimQuotes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s[a] === '"') a++;
  while (b > a && s[b - 1] === '"') b--;
  return s.slice(a, b);
}
