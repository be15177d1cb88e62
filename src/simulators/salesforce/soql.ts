import { SfError } from './errors';
import { normalizeId } from './ids';
import { findObject } from './schema';
import type { FieldDef, ObjectDef } from './schema';
import { isIdType, isNumberType, isTextType, parseDate, parseDateTime } from './values';
import type { Value } from './values';

/**
 * A small SOQL implementation: tokenizer -> recursive-descent parser -> AST -> checked query -> evaluator.
 * Subset: SELECT fields | COUNT() FROM object [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n], with
 * = != <> < > <= >= IN / NOT IN, LIKE, AND / OR / NOT, parentheses, and string / number / boolean / null /
 * date / datetime literals. Errors carry SF's codes and its "ERROR at Row:r:Column:c" message form.
 */

type TokenKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'op' | '(' | ')' | ',' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of string literals. */
  value?: string;
  pos: number;
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'date'; value: string }
  | { kind: 'datetime'; value: number };

export type Expr =
  | { type: 'and' | 'or'; operands: Expr[] }
  | { type: 'not'; operand: Expr }
  | { type: 'compare'; field: string; op: '=' | '!=' | '<' | '>' | '<=' | '>='; value: Literal; pos: number }
  | { type: 'in'; field: string; negate: boolean; values: Literal[]; pos: number }
  | { type: 'like'; field: string; pattern: string; pos: number };

export interface OrderItem {
  field: string;
  direction: 'ASC' | 'DESC';
  nulls: 'FIRST' | 'LAST';
  pos: number;
}

export interface SelectAst {
  count: boolean;
  fields: { name: string; pos: number }[];
  from: { name: string; pos: number };
  where?: Expr;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}

const KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'ORDER',
  'BY',
  'ASC',
  'DESC',
  'NULLS',
  'FIRST',
  'LAST',
  'LIMIT',
  'OFFSET',
  'TRUE',
  'FALSE',
  'NULL',
]);

function positionOf(soql: string, pos: number): { row: number; column: number } {
  const before = soql.slice(0, pos).split('\n');
  return { row: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

/** SF's query error message: the offending line, a caret under the spot, and the row/column. */
export function queryError(soql: string, pos: number, detail: string, code = 'MALFORMED_QUERY'): SfError {
  const { row, column } = positionOf(soql, pos);
  const line = soql.split('\n')[row - 1] ?? '';
  return new SfError(
    400,
    code,
    `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`,
  );
}

const DATETIME_TOKEN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/;
const DATE_TOKEN = /^\d{4}-\d{2}-\d{2}(?![\dT:])/;
const NUMBER_TOKEN = /^-?\d+(\.\d+)?(?![\w.])/;
const IDENT_TOKEN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/;

export function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = soql.slice(i);
    if (c === "'") {
      let value = '';
      let j = i + 1;
      let closed = false;
      while (j < soql.length) {
        const ch = soql.charAt(j);
        if (ch === '\\') {
          const next = soql.charAt(j + 1);
          const escapes: Record<string, string> = {
            n: '\n',
            r: '\r',
            t: '\t',
            b: '\b',
            f: '\f',
            "'": "'",
            '"': '"',
            '\\': '\\',
          };
          if (next === '%' || next === '_')
            value += `\\${next}`; // kept escaped for LIKE
          else if (escapes[next] !== undefined) value += escapes[next];
          else
            throw queryError(
              soql,
              j,
              `Invalid string literal '${rest}'. Illegal character sequence '\\${next}' in string literal.`,
            );
          j += 2;
          continue;
        }
        if (ch === "'") {
          closed = true;
          break;
        }
        value += ch;
        j++;
      }
      if (!closed) throw queryError(soql, i, `line 1:${i} mismatched character '<EOF>' expecting '''`);
      tokens.push({ kind: 'string', text: soql.slice(i, j + 1), value, pos: i });
      i = j + 1;
      continue;
    }
    let m = DATETIME_TOKEN.exec(rest);
    if (m) {
      tokens.push({ kind: 'datetime', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    m = DATE_TOKEN.exec(rest);
    if (m) {
      tokens.push({ kind: 'date', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    m = NUMBER_TOKEN.exec(rest);
    if (m) {
      tokens.push({ kind: 'number', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    m = IDENT_TOKEN.exec(rest);
    if (m) {
      tokens.push({ kind: 'ident', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const two = rest.slice(0, 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two, pos: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      tokens.push({ kind: 'op', text: c, pos: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, pos: i });
      i++;
      continue;
    }
    throw queryError(soql, i, `line 1:${i} no viable alternative at character '${c}'`);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: soql.length });
  return tokens;
}

class Parser {
  private i = 0;

  constructor(
    private readonly soql: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private isKeyword(word: string, t = this.peek()): boolean {
    return t.kind === 'ident' && t.text.toUpperCase() === word;
  }

  private fail(t: Token, detail = `unexpected token: ${t.text}`): never {
    throw queryError(this.soql, t.pos, detail);
  }

  private expectKeyword(word: string): Token {
    const t = this.next();
    if (!this.isKeyword(word, t))
      this.fail(t, t.kind === 'eof' ? `unexpected token: <EOF>` : `unexpected token: ${t.text}`);
    return t;
  }

  private fieldName(): { name: string; pos: number } {
    const t = this.next();
    if (t.kind !== 'ident' || KEYWORDS.has(t.text.toUpperCase())) this.fail(t);
    return { name: t.text, pos: t.pos };
  }

  private integer(what: string): number {
    const t = this.next();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text))
      this.fail(t, `unexpected token: ${t.text}; ${what} expects an integer`);
    return Number(t.text);
  }

  parse(): SelectAst {
    this.expectKeyword('SELECT');
    let count = false;
    const fields: { name: string; pos: number }[] = [];
    if (this.isKeyword('COUNT') && this.tokens[this.i + 1]?.kind === '(') {
      this.next();
      this.next();
      const close = this.next();
      if (close.kind !== ')') this.fail(close, `unexpected token: ${close.text}; only COUNT() is supported`);
      count = true;
    } else {
      fields.push(this.fieldName());
      while (this.peek().kind === ',') {
        this.next();
        fields.push(this.fieldName());
      }
    }
    this.expectKeyword('FROM');
    const fromTok = this.next();
    if (fromTok.kind !== 'ident' || KEYWORDS.has(fromTok.text.toUpperCase())) this.fail(fromTok);
    const ast: SelectAst = { count, fields, from: { name: fromTok.text, pos: fromTok.pos }, orderBy: [] };
    if (this.isKeyword('WHERE')) {
      this.next();
      ast.where = this.expression();
    }
    if (this.isKeyword('ORDER')) {
      this.next();
      this.expectKeyword('BY');
      do {
        if (ast.orderBy.length > 0) this.next();
        const f = this.fieldName();
        let direction: 'ASC' | 'DESC' = 'ASC';
        if (this.isKeyword('ASC') || this.isKeyword('DESC'))
          direction = this.next().text.toUpperCase() as 'ASC' | 'DESC';
        // SF puts nulls first in ascending and last in descending order unless told otherwise.
        let nulls: 'FIRST' | 'LAST' = direction === 'ASC' ? 'FIRST' : 'LAST';
        if (this.isKeyword('NULLS')) {
          this.next();
          const t = this.next();
          if (!this.isKeyword('FIRST', t) && !this.isKeyword('LAST', t)) this.fail(t);
          nulls = t.text.toUpperCase() as 'FIRST' | 'LAST';
        }
        ast.orderBy.push({ field: f.name, direction, nulls, pos: f.pos });
      } while (this.peek().kind === ',');
    }
    if (this.isKeyword('LIMIT')) {
      this.next();
      ast.limit = this.integer('LIMIT');
    }
    if (this.isKeyword('OFFSET')) {
      this.next();
      ast.offset = this.integer('OFFSET');
    }
    const end = this.peek();
    if (end.kind !== 'eof') this.fail(end);
    return ast;
  }

  /** SOQL forbids mixing AND and OR on one level without parentheses; so does this parser. */
  private expression(): Expr {
    const operands: Expr[] = [this.unary()];
    let joiner: 'AND' | 'OR' | undefined;
    while (this.isKeyword('AND') || this.isKeyword('OR')) {
      const t = this.next();
      const word = t.text.toUpperCase() as 'AND' | 'OR';
      if (joiner !== undefined && joiner !== word) this.fail(t);
      joiner = word;
      operands.push(this.unary());
    }
    if (operands.length === 1) return operands[0]!;
    return { type: joiner === 'OR' ? 'or' : 'and', operands };
  }

  private unary(): Expr {
    if (this.isKeyword('NOT')) {
      this.next();
      return { type: 'not', operand: this.unary() };
    }
    if (this.peek().kind === '(') {
      this.next();
      const e = this.expression();
      const close = this.next();
      if (close.kind !== ')') this.fail(close);
      return e;
    }
    return this.condition();
  }

  private condition(): Expr {
    const f = this.fieldName();
    const t = this.next();
    if (t.kind === 'op') {
      const op = (t.text === '<>' ? '!=' : t.text) as '=' | '!=' | '<' | '>' | '<=' | '>=';
      return { type: 'compare', field: f.name, op, value: this.literal(), pos: f.pos };
    }
    if (this.isKeyword('LIKE', t)) {
      const p = this.next();
      if (p.kind !== 'string') this.fail(p, `unexpected token: ${p.text}; LIKE expects a string`);
      return { type: 'like', field: f.name, pattern: p.value ?? '', pos: f.pos };
    }
    let negate = false;
    let inTok = t;
    if (this.isKeyword('NOT', t)) {
      negate = true;
      inTok = this.next();
    }
    if (this.isKeyword('IN', inTok)) {
      const open = this.next();
      if (open.kind !== '(') this.fail(open);
      const values = [this.literal()];
      while (this.peek().kind === ',') {
        this.next();
        values.push(this.literal());
      }
      const close = this.next();
      if (close.kind !== ')') this.fail(close);
      return { type: 'in', field: f.name, negate, values, pos: f.pos };
    }
    return this.fail(inTok);
  }

  private literal(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { kind: 'string', value: t.value ?? '' };
      case 'number':
        return { kind: 'number', value: Number(t.text) };
      case 'date': {
        const d = parseDate(t.text);
        if (d === undefined) this.fail(t, `line 1:${t.pos} invalid date: ${t.text}`);
        return { kind: 'date', value: d };
      }
      case 'datetime': {
        const ms = parseDateTime(t.text);
        if (ms === undefined) this.fail(t, `line 1:${t.pos} invalid datetime: ${t.text}`);
        return { kind: 'datetime', value: ms };
      }
      case 'ident': {
        const word = t.text.toUpperCase();
        if (word === 'TRUE' || word === 'FALSE') return { kind: 'boolean', value: word === 'TRUE' };
        if (word === 'NULL') return { kind: 'null' };
        return this.fail(t);
      }
      default:
        return this.fail(t);
    }
  }
}

export function parseSoql(soql: string): SelectAst {
  return new Parser(soql, tokenize(soql)).parse();
}

// ---------------------------------------------------------------------------------------------------
// Checking against the schema

type Resolved<T> = T & { def: FieldDef };

type CheckedExpr =
  | { type: 'and' | 'or'; operands: CheckedExpr[] }
  | { type: 'not'; operand: CheckedExpr }
  | { type: 'compare'; def: FieldDef; op: '=' | '!=' | '<' | '>' | '<=' | '>='; value: Value }
  | { type: 'in'; def: FieldDef; negate: boolean; values: Value[] }
  | { type: 'like'; def: FieldDef; regex: RegExp };

export interface CheckedQuery {
  object: ObjectDef;
  count: boolean;
  fields: FieldDef[];
  where?: CheckedExpr;
  orderBy: Resolved<OrderItem>[];
  limit?: number;
  offset: number;
}

const SF_TYPE_NAMES: Partial<Record<string, string>> = {
  datetime: 'dateTime',
  double: 'double',
  currency: 'double',
  percent: 'double',
  int: 'int',
  boolean: 'boolean',
  date: 'date',
  id: 'id',
  reference: 'id',
};

function likeToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '\\' && (pattern.charAt(i + 1) === '%' || pattern.charAt(i + 1) === '_')) {
      re += pattern.charAt(i + 1);
      i++;
    } else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

export function checkQuery(soql: string, ast: SelectAst): CheckedQuery {
  const object = findObject(ast.from.name);
  if (!object) {
    throw queryError(
      soql,
      ast.from.pos,
      `sObject type '${ast.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      'INVALID_TYPE',
    );
  }
  const resolve = (name: string, pos: number): FieldDef => {
    const def = object.byLowerName.get(name.toLowerCase());
    if (!def) {
      throw queryError(
        soql,
        pos,
        `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        'INVALID_FIELD',
      );
    }
    return def;
  };
  const fields = ast.fields.map((f) => resolve(f.name, f.pos));
  const seen = new Set<string>();
  for (const [i, f] of fields.entries()) {
    if (seen.has(f.name))
      throw queryError(soql, ast.fields[i]!.pos, `duplicate field selected: ${f.name}`, 'INVALID_FIELD');
    seen.add(f.name);
  }

  const literalFor = (def: FieldDef, lit: Literal, pos: number): Value => {
    const wrongType = (): never => {
      const typeName = SF_TYPE_NAMES[def.type] ?? 'string';
      const quoted = lit.kind === 'string';
      throw queryError(
        soql,
        pos,
        quoted
          ? `value of filter criterion for field '${def.name}' must be of type ${typeName} and should not be enclosed in quotes`
          : `value of filter criterion for field '${def.name}' must be of type ${typeName} and should be enclosed in quotes`,
        'INVALID_QUERY_FILTER_OPERATOR',
      );
    };
    if (lit.kind === 'null') return null;
    if (isIdType(def)) {
      if (lit.kind !== 'string') return wrongType();
      const id = normalizeId(lit.value);
      if (id === undefined)
        throw queryError(soql, pos, `invalid ID field: ${lit.value}`, 'INVALID_QUERY_FILTER_OPERATOR');
      return id;
    }
    if (isTextType(def)) return lit.kind === 'string' ? lit.value : wrongType();
    if (isNumberType(def)) return lit.kind === 'number' ? lit.value : wrongType();
    if (def.type === 'boolean') return lit.kind === 'boolean' ? lit.value : wrongType();
    if (def.type === 'date') return lit.kind === 'date' ? lit.value : wrongType();
    if (def.type === 'datetime') return lit.kind === 'datetime' ? lit.value : wrongType();
    return wrongType();
  };

  const check = (e: Expr): CheckedExpr => {
    switch (e.type) {
      case 'and':
      case 'or':
        return { type: e.type, operands: e.operands.map(check) };
      case 'not':
        return { type: 'not', operand: check(e.operand) };
      case 'compare': {
        const def = resolve(e.field, e.pos);
        return { type: 'compare', def, op: e.op, value: literalFor(def, e.value, e.pos) };
      }
      case 'in': {
        const def = resolve(e.field, e.pos);
        return { type: 'in', def, negate: e.negate, values: e.values.map((v) => literalFor(def, v, e.pos)) };
      }
      case 'like': {
        const def = resolve(e.field, e.pos);
        if (!isTextType(def) && !isIdType(def)) {
          throw queryError(
            soql,
            e.pos,
            `invalid operator on ${SF_TYPE_NAMES[def.type] ?? def.type} field: ${def.name}`,
            'INVALID_QUERY_FILTER_OPERATOR',
          );
        }
        return { type: 'like', def, regex: likeToRegex(e.pattern) };
      }
    }
  };

  if (ast.offset !== undefined && ast.offset > 2000) {
    throw new SfError(400, 'NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000');
  }
  return {
    object,
    count: ast.count,
    fields,
    where: ast.where ? check(ast.where) : undefined,
    orderBy: ast.orderBy.map((o) => ({ ...o, def: resolve(o.field, o.pos) })),
    limit: ast.limit,
    offset: ast.offset ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

/** Orders two non-null values of one field: text case-insensitively, like SF's default collation. */
export function compareValues(def: FieldDef, a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  if (isIdType(def)) return sa < sb ? -1 : sa > sb ? 1 : 0;
  const la = sa.toLowerCase();
  const lb = sb.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}

function evaluate(e: CheckedExpr, row: Record<string, Value>): boolean {
  switch (e.type) {
    case 'and':
      return e.operands.every((o) => evaluate(o, row));
    case 'or':
      return e.operands.some((o) => evaluate(o, row));
    case 'not':
      return !evaluate(e.operand, row);
    case 'compare': {
      const v = row[e.def.name] ?? null;
      if (e.value === null || v === null) {
        if (e.op === '=') return v === e.value;
        if (e.op === '!=') return v !== e.value;
        return false;
      }
      const c = compareValues(e.def, v, e.value);
      switch (e.op) {
        case '=':
          return c === 0;
        case '!=':
          return c !== 0;
        case '<':
          return c < 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '>=':
          return c >= 0;
      }
      return false;
    }
    case 'in': {
      const v = row[e.def.name] ?? null;
      const hit = e.values.some((x) =>
        x === null || v === null ? x === v : compareValues(e.def, v, x) === 0,
      );
      return e.negate ? !hit : hit;
    }
    case 'like': {
      const v = row[e.def.name] ?? null;
      return v !== null && e.regex.test(String(v));
    }
  }
}

/** Filters, sorts and slices rows (each row keyed by canonical field names). */
export function runQuery(q: CheckedQuery, rows: Record<string, Value>[]): Record<string, Value>[] {
  let result = q.where ? rows.filter((r) => evaluate(q.where!, r)) : [...rows];
  if (q.orderBy.length > 0) {
    result.sort((a, b) => {
      for (const o of q.orderBy) {
        const va = a[o.def.name] ?? null;
        const vb = b[o.def.name] ?? null;
        if (va === null && vb === null) continue;
        if (va === null) return o.nulls === 'FIRST' ? -1 : 1;
        if (vb === null) return o.nulls === 'FIRST' ? 1 : -1;
        const c = compareValues(o.def, va, vb);
        if (c !== 0) return o.direction === 'ASC' ? c : -c;
      }
      return 0;
    });
  }
  result = result.slice(q.offset);
  if (q.limit !== undefined) result = result.slice(0, q.limit);
  return result;
}
