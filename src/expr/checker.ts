import { Decimal, INT64_MAX, parseGoFloat, type Value } from '../values/index.js';
import type { Binary, Call, ExprNode } from './ast.js';
import { AGGREGATE_NAMES, BUILTINS, moduleConstant, MODULE_NAMES, typeName } from './builtins.js';
import { ExprError } from './errors.js';
import { didYouMean } from './suggest.js';
import type { TNode } from './typed.js';
import type { ExprType, FieldRef, Scope } from './types.js';

const KNOWN_ALIASES = ['r', 'l', 'w', 'p', 'nrs'];
const NUMERIC: ReadonlySet<ExprType> = new Set(['int', 'goint', 'float', 'decimal2']);

/** Static type of a constant given by the scope (wfmodel.*). */
function typeOfValue(v: Value): ExprType {
  switch (typeof v) {
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    default:
      return v instanceof Decimal ? 'decimal2' : 'datetime';
  }
}

/** Numeric promotion: float beats decimal beats int (Go int from len() counts as int). */
function promote(a: ExprType, b: ExprType): 'int' | 'float' | 'decimal2' {
  if (a === 'float' || b === 'float') return 'float';
  if (a === 'decimal2' || b === 'decimal2') return 'decimal2';
  return 'int';
}

export class Checker {
  readonly fields: FieldRef[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly source: string,
    readonly scope: Scope,
  ) {}

  fail(msg: string, pos: number): never {
    throw new ExprError(msg, pos, this.source, 'EXPR_TYPE');
  }

  private conv(n: TNode, to: ExprType): TNode {
    if (n.type === to || (n.type === 'goint' && to === 'int')) {
      return n.type === to ? n : { k: 'conv', type: 'int', pos: n.pos, x: n };
    }
    return { k: 'conv', type: to, pos: n.pos, x: n };
  }

  check(n: ExprNode): TNode {
    switch (n.kind) {
      case 'paren':
        return this.check(n.x);
      case 'int':
        return this.intLiteral(n.text, n.pos);
      case 'float': {
        let v: number;
        try {
          v = parseGoFloat(n.text);
        } catch {
          return this.fail(`invalid float literal ${n.text}`, n.pos);
        }
        return { k: 'const', type: 'float', pos: n.pos, value: v };
      }
      case 'string':
        return { k: 'const', type: 'string', pos: n.pos, value: n.value };
      case 'ident':
        return this.ident(n.name, n.pos);
      case 'selector':
        return this.selector(n.x, n.name, n.pos, n.namePos);
      case 'call':
        return this.call(n);
      case 'unary': {
        const x = this.check(n.x);
        if (n.op === '!') {
          if (x.type !== 'bool') this.fail(`operator ! needs a bool operand, got ${typeName(x.type)}`, n.pos);
          return { k: 'not', type: 'bool', pos: n.pos, x };
        }
        if (x.type === 'goint') return { k: 'neg', type: 'int', pos: n.pos, x: this.conv(x, 'int') };
        if (x.type !== 'int' && x.type !== 'float' && x.type !== 'decimal2') {
          this.fail(`unary - needs a number, got ${typeName(x.type)}`, n.pos);
        }
        return { k: 'neg', type: x.type, pos: n.pos, x };
      }
      case 'binary':
        return this.binary(n);
    }
  }

  private intLiteral(text: string, pos: number): TNode {
    if (!/^[0-9]+$/.test(text)) {
      this.fail(`integer literal ${text} is not supported: write integers in base 10 without '_'`, pos);
    }
    const v = BigInt(text);
    if (v > INT64_MAX) return { k: 'const', type: 'decimal2', pos, value: new Decimal(text) };
    return { k: 'const', type: 'int', pos, value: v };
  }

  private ident(name: string, pos: number): TNode {
    if (name === 'true' || name === 'false') return { k: 'const', type: 'bool', pos, value: name === 'true' };
    if (this.scope.bareIdentifiers) {
      const t = this.scope.vars['']?.[name];
      if (t !== undefined) return this.field('', name, t, pos);
      return this.fail(
        `unknown identifier ${name}${didYouMean(name, Object.keys(this.scope.vars[''] ?? {}))}`,
        pos,
      );
    }
    if (this.scope.vars[name] !== undefined || KNOWN_ALIASES.includes(name)) {
      return this.fail(`${name} must be followed by a field name (${name}.field)`, pos);
    }
    if (BUILTINS.has(name) || AGGREGATE_NAMES.has(name))
      return this.fail(`${name} is a function: call it as ${name}(...)`, pos);
    return this.fail(`unknown identifier ${name}: fields are written alias.field, e.g. r.${name}`, pos);
  }

  private field(alias: string, name: string, type: ExprType, pos: number): TNode {
    const key = `${alias}\u0000${name}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.fields.push({ alias, field: name });
    }
    return { k: 'field', type, pos, alias, field: name };
  }

  private selector(x: ExprNode, name: string, pos: number, namePos: number): TNode {
    if (x.kind !== 'ident') {
      return this.fail('only alias.field and package.name selectors are supported', namePos);
    }
    const alias = x.name;
    const vars = this.scope.vars[alias];
    if (vars !== undefined) {
      const t = vars[name];
      if (t === undefined) {
        this.fail(`unknown field ${alias}.${name}${didYouMean(name, Object.keys(vars), `${alias}.`)}`, pos);
      }
      return this.field(alias, name, t, pos);
    }
    const consts = this.scope.constants?.[alias];
    if (consts !== undefined) {
      const v = consts[name];
      if (v === undefined)
        this.fail(
          `unknown constant ${alias}.${name}${didYouMean(name, Object.keys(consts), `${alias}.`)}`,
          pos,
        );
      return { k: 'const', type: typeOfValue(v), pos, value: v };
    }
    const mc = moduleConstant(alias, name);
    if (mc !== undefined) return { k: 'const', type: mc.type, pos, value: mc.value };
    if (BUILTINS.has(`${alias}.${name}`))
      return this.fail(`${alias}.${name} is a function: call it with (...)`, pos);
    if (alias === 'time') {
      return this.fail(
        `unknown name time.${name}${didYouMean(name, ['UTC', 'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'], 'time.')}`,
        namePos,
      );
    }
    if (KNOWN_ALIASES.includes(alias)) {
      const allowed = Object.keys(this.scope.vars).filter((a) => a !== '');
      return this.fail(
        `${alias}.${name}: ${alias}.* fields are not available in this expression (allowed here: ${allowed.length ? allowed.map((a) => `${a}.*`).join(', ') : 'none'})`,
        pos,
      );
    }
    const known = [...Object.keys(this.scope.vars), ...Object.keys(this.scope.constants ?? {}), 'time'];
    return this.fail(`unknown name ${alias}${didYouMean(alias, known)}`, pos);
  }

  private calleeName(c: Call): string {
    const f = c.fn.kind === 'paren' ? c.fn.x : c.fn;
    if (f.kind === 'ident') return f.name;
    if (f.kind === 'selector' && f.x.kind === 'ident') return `${f.x.name}.${f.name}`;
    return this.fail('only named functions can be called', c.fn.pos);
  }

  /** The aggregate function name if `n` is a call to one. */
  aggregateName(n: ExprNode): string | undefined {
    const x = n.kind === 'paren' ? n.x : n;
    if (x.kind !== 'call') return undefined;
    const f = x.fn;
    return f.kind === 'ident' && AGGREGATE_NAMES.has(f.name) ? f.name : undefined;
  }

  private call(c: Call): TNode {
    const name = this.calleeName(c);
    if (AGGREGATE_NAMES.has(name)) {
      if (!this.scope.aggregates) {
        this.fail(
          `aggregate function ${name}() is only allowed in w.fields of a table_lookup_table node with group: true`,
          c.pos,
        );
      }
      this.fail(
        `aggregate function ${name}() must be the whole expression (e.g. ${name}(l.x), not ${name}(l.x)*2)`,
        c.pos,
      );
    }
    const def = BUILTINS.get(name);
    if (def === undefined) {
      const names = [...BUILTINS.keys(), ...(this.scope.aggregates ? AGGREGATE_NAMES : [])];
      const dot = name.indexOf('.');
      if (
        dot > 0 &&
        !MODULE_NAMES.includes(name.slice(0, dot)) &&
        this.scope.vars[name.slice(0, dot)] !== undefined
      ) {
        this.fail(`${name} is a field, not a function`, c.pos);
      }
      this.fail(`unknown function ${name}${didYouMean(name, names)}`, c.pos);
    }
    if (c.ellipsis) this.fail(`'...' arguments are not supported`, c.pos);
    const args = c.args.map((a) => this.check(a));
    const r = def.resolve(args, (msg, i) =>
      this.fail(msg, i >= 0 ? ((c.args[i] as ExprNode).pos ?? c.pos) : c.pos),
    );
    return { k: 'call', type: r.type, pos: c.pos, name, args, impl: r.impl, pure: r.pure };
  }

  private binary(n: Binary): TNode {
    const x = this.check(n.x);
    const y = this.check(n.y);
    const op = n.op;
    const pos = n.opPos;
    const bad = (what: string): never =>
      this.fail(`operator ${op} ${what}, got ${typeName(x.type)} ${op} ${typeName(y.type)}`, pos);
    switch (op) {
      case '&&':
      case '||':
        if (x.type !== 'bool' || y.type !== 'bool') bad('needs bool operands');
        return { k: 'logic', type: 'bool', pos, op, x, y };
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (NUMERIC.has(x.type) && NUMERIC.has(y.type)) {
          const t = promote(x.type, y.type);
          return { k: 'cmp', type: 'bool', pos, op, operand: t, x: this.conv(x, t), y: this.conv(y, t) };
        }
        if (x.type !== y.type) bad('cannot compare different types');
        if (x.type === 'bool') {
          if (op !== '==' && op !== '!=') bad('is not defined on bool (only == and !=)');
          return { k: 'cmp', type: 'bool', pos, op, operand: 'bool', x, y };
        }
        if (x.type === 'string' || x.type === 'datetime') {
          return { k: 'cmp', type: 'bool', pos, op, operand: x.type, x, y };
        }
        return bad('cannot compare these values');
      }
      case '+':
      case '-':
      case '*':
      case '/': {
        if (op === '+' && x.type === 'string' && y.type === 'string') {
          return { k: 'arith', type: 'string', pos, op, x, y, round: false };
        }
        if (!NUMERIC.has(x.type) || !NUMERIC.has(y.type)) {
          bad(op === '+' ? 'needs two numbers or two strings' : 'needs numbers');
        }
        const t = promote(x.type, y.type);
        const round = t === 'decimal2' && this.scope.decimalRounding === true;
        return { k: 'arith', type: t, pos, op, x: this.conv(x, t), y: this.conv(y, t), round };
      }
      case '%':
        if ((x.type !== 'int' && x.type !== 'goint') || (y.type !== 'int' && y.type !== 'goint')) {
          bad('is only defined for int');
        }
        return {
          k: 'arith',
          type: 'int',
          pos,
          op,
          x: this.conv(x, 'int'),
          y: this.conv(y, 'int'),
          round: false,
        };
      default:
        return this.fail(
          `operator ${op} is not supported (bitwise and shift operators are not available)`,
          pos,
        );
    }
  }
}
