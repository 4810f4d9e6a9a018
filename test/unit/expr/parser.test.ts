import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExprError, parseExpression, type ExprNode } from '../../../src/expr/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// Produced by go/parser.ParseExpr (fixtures/gen/main.go): acceptance and a fully parenthesised rendering.
const goCases = JSON.parse(readFileSync(join(here, 'fixtures', 'go-parse.json'), 'utf8')) as {
  src: string;
  ok: boolean;
  subset: boolean;
  paren?: string;
}[];

function render(n: ExprNode): string {
  switch (n.kind) {
    case 'binary':
      return `(${render(n.x)} ${n.op} ${render(n.y)})`;
    case 'unary':
      return `(${n.op}${render(n.x)})`;
    case 'paren':
      return render(n.x);
    case 'call':
      return `${render(n.fn)}(${n.args.map(render).join(', ')}${n.ellipsis ? '...' : ''})`;
    case 'selector':
      return `${render(n.x)}.${n.name}`;
    case 'ident':
      return n.name;
    default:
      return n.text;
  }
}

function parseError(src: string): ExprError {
  try {
    parseExpression(src);
  } catch (e) {
    if (e instanceof ExprError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(src)} to be rejected`);
}

describe('parser agrees with go/parser.ParseExpr', () => {
  it.each(goCases.filter((c) => c.ok && c.subset).map((c) => [c.src, c.paren]))(
    'accepts %j as %s',
    (src, paren) => {
      expect(render(parseExpression(src))).toBe(paren);
    },
  );

  it.each(goCases.filter((c) => !c.ok).map((c) => [c.src]))(
    'rejects invalid Go %j with an ExprError',
    (src) => {
      expect(parseError(src)).toBeInstanceOf(ExprError);
    },
  );

  it.each(goCases.filter((c) => c.ok && !c.subset).map((c) => [c.src]))(
    'rejects unsupported Go %j clearly',
    (src) => {
      const e = parseError(src);
      expect(e.message).toMatch(/not supported|cannot be used/);
    },
  );
});

describe('parser details', () => {
  it.each([
    ['a + b * c - d', '((a + (b * c)) - d)'],
    ['a || b && c == d + e * -f', '(a || (b && (c == (d + (e * (-f))))))'],
    ['!a.b(c) != d', '((!a.b(c)) != d)'],
    ['a - b - c', '((a - b) - c)'],
    ['a < b == c', '((a < b) == c)'],
  ])('precedence of %s', (src, want) => {
    expect(render(parseExpression(src))).toBe(want);
  });

  it('keeps positions and literal values', () => {
    const n = parseExpression('r.price * "a\\n"');
    expect(n.kind).toBe('binary');
    if (n.kind !== 'binary') return;
    expect(n.opPos).toBe(8);
    expect(n.y).toMatchObject({ kind: 'string', raw: false, value: 'a\\n', pos: 10, end: 15 });
    expect(parseExpression('`x"y`')).toMatchObject({ kind: 'string', raw: true, value: 'x"y' });
  });

  it.each([
    ['sum(l.value))', "unexpected ')' at 12"],
    ['a +', 'unexpected end of expression, expected an operand at 3'],
    ['r.type', "'type' is a Go keyword and cannot be used as a name at 2"],
    ['x[1]', 'index and slice expressions (a[i]) are not supported at 1'],
    ['"\\d"', 'unknown escape sequence \\d'],
    ["'c'", 'character literal'],
    ['a\n+ b', "unexpected '+' at 2"],
    ['f(a\n)', 'unexpected newline in argument list'],
    ['+a', "unary '+' is not supported"],
  ])('error for %j', (src, msg) => {
    expect(parseError(src).message).toContain(msg);
  });
});
