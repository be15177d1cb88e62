/**
 * A subset of Stripe's Search Query Language (API reference, "Search query language"), enough for
 * customers: clauses `field:value` (exact match), `field~value` (substring, 3+ characters), and
 * `created>1700000000` style numeric comparisons, each optionally negated with a leading `-`, joined
 * by `AND` or by `OR` (not both in one query, at most 10 clauses). Fields: `email`, `name`, `phone`,
 * `description`, `created`, and `metadata['key']`. String values are quoted, with `"` or `'`, and `\`
 * escapes a quote. `metadata['key']:null` matches customers without that key.
 */

export class SearchQueryError extends Error {}

export type Comparator = ':' | '~' | '>' | '<' | '>=' | '<=';

export interface Clause {
  negated: boolean;
  field: string;
  /** For metadata clauses, the metadata key. */
  metadataKey?: string;
  comparator: Comparator;
  value: string | number | null;
}

export interface ParsedQuery {
  combinator: 'AND' | 'OR';
  clauses: Clause[];
}

const STRING_FIELDS = new Set(['email', 'name', 'phone', 'description']);
const NUMERIC_FIELDS = new Set(['created']);
const MAX_CLAUSES = 10;

export function parseSearchQuery(query: string): ParsedQuery {
  let i = 0;
  const s = query;
  const fail = (what: string): never => {
    throw new SearchQueryError(`Invalid search query at position ${i}: ${what} (query: ${query})`);
  };
  const skipSpaces = () => {
    while (i < s.length && s[i] === ' ') i++;
  };
  const quoted = (): string => {
    const quote = s[i];
    if (quote !== '"' && quote !== "'") return fail('expected a quoted value');
    i++;
    let out = '';
    while (i < s.length && s[i] !== quote) {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      out += s[i];
      i++;
    }
    if (s[i] !== quote) fail('unterminated string');
    i++;
    return out;
  };

  const clauses: Clause[] = [];
  let combinator: 'AND' | 'OR' | undefined;
  skipSpaces();
  if (i >= s.length) fail('the query is empty');
  while (i < s.length) {
    const negated = s[i] === '-';
    if (negated) i++;
    let field = '';
    while (i < s.length && /[a-z_]/.test(s[i]!)) field += s[i++];
    let metadataKey: string | undefined;
    if (field === 'metadata') {
      if (s[i] !== '[') fail("metadata needs a key: metadata['key']");
      i++;
      metadataKey = quoted();
      if (s[i] !== ']') fail("expected ']'");
      i++;
    } else if (!STRING_FIELDS.has(field) && !NUMERIC_FIELDS.has(field)) {
      fail(`unsupported field "${field}" (email, name, phone, description, created, metadata['key'])`);
    }
    let comparator: Comparator;
    if (s.startsWith('>=', i) || s.startsWith('<=', i)) {
      comparator = s.slice(i, i + 2) as Comparator;
      i += 2;
    } else if (s[i] === ':' || s[i] === '~' || s[i] === '>' || s[i] === '<') {
      comparator = s[i] as Comparator;
      i++;
    } else {
      return fail('expected one of : ~ > < >= <=');
    }
    let value: string | number | null;
    if (NUMERIC_FIELDS.has(field)) {
      const m = /^\d+/.exec(s.slice(i));
      if (!m) return fail(`${field} needs an integer (Unix seconds)`);
      value = Number(m[0]);
      i += m[0].length;
    } else {
      if (comparator !== ':' && comparator !== '~') fail(`${field} supports only : and ~`);
      if (metadataKey !== undefined && comparator === '~') fail('metadata supports only :');
      if (metadataKey !== undefined && s.startsWith('null', i)) {
        value = null;
        i += 4;
      } else {
        value = quoted();
        if (comparator === '~' && value.length < 3) fail('a substring match needs at least 3 characters');
      }
    }
    clauses.push({ negated, field, metadataKey, comparator, value });
    if (clauses.length > MAX_CLAUSES) fail(`at most ${MAX_CLAUSES} clauses`);
    skipSpaces();
    if (i >= s.length) break;
    const word = /^(AND|OR)\b/.exec(s.slice(i))?.[1] as 'AND' | 'OR' | undefined;
    if (!word) fail('expected AND or OR between clauses');
    if (combinator && combinator !== word) fail('AND and OR cannot be combined in one query');
    combinator = word;
    i += word!.length;
    skipSpaces();
    if (i >= s.length) fail('a clause must follow ' + word);
  }
  return { combinator: combinator ?? 'AND', clauses };
}

export interface Searchable {
  created: number;
  metadata: Record<string, string>;
  [field: string]: unknown;
}

function clauseMatches(c: Clause, record: Searchable): boolean {
  let hit: boolean;
  if (c.metadataKey !== undefined) {
    const v = record.metadata[c.metadataKey];
    hit = c.value === null ? v === undefined : v === c.value;
  } else if (typeof c.value === 'number') {
    const v = record[c.field] as number;
    hit =
      c.comparator === ':'
        ? v === c.value
        : c.comparator === '>'
          ? v > c.value
          : c.comparator === '<'
            ? v < c.value
            : c.comparator === '>='
              ? v >= c.value
              : v <= c.value;
  } else {
    const raw = record[c.field];
    const v = typeof raw === 'string' ? raw.toLowerCase() : '';
    const want = String(c.value).toLowerCase();
    hit = c.comparator === '~' ? v.includes(want) : v === want;
  }
  return c.negated ? !hit : hit;
}

export function matchesQuery(q: ParsedQuery, record: Searchable): boolean {
  return q.combinator === 'AND'
    ? q.clauses.every((c) => clauseMatches(c, record))
    : q.clauses.some((c) => clauseMatches(c, record));
}
