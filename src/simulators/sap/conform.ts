/**
 * Shapes a function module's result the way SAP's SOAP runtime serialises it, driven by the WSDL:
 *
 * - elements in the order of their `xsd:sequence` (node-soap writes an object's keys in insertion order,
 *   and a strict client rejects a reply whose elements are out of sequence);
 * - an initial value is never absent or nil: ABAP has no null, so an empty CHAR is an empty element, an
 *   initial DATS is `0000-00-00`, an initial TIMS `00:00:00`, an initial NUMC all zeros and an initial
 *   number `0` (node-soap would write `xsi:nil="true"` for null, without declaring `xsi`).
 *
 * The description is node-soap's `describeServices()` output: per element either a nested object (keys
 * in sequence order, tables as `item[]`) or a type string such as `date10|xsd:string|maxLength,pattern`.
 */

export type ElementDescription = string | { [name: string]: ElementDescription };

const META_KEYS = new Set(['targetNSAlias', 'targetNamespace']);

/** SAP's initial value for a simple type of the WSDL. */
export function initialValue(type: string): string {
  const name = type.split('|')[0]!.replace(/^\w+:/, '');
  if (name === 'date10' || name === 'date') return '0000-00-00';
  if (name === 'time') return '00:00:00';
  const numc = /^numeric(\d+)$/.exec(name);
  if (numc) return '0'.repeat(Number(numc[1]));
  if (/^(decimal|quantum|int|integer|long|short|byte|double|float)/.test(name)) return '0';
  return '';
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

export function conformToSchema(value: unknown, description: ElementDescription): unknown {
  if (typeof description === 'string') return isEmpty(value) ? initialValue(description) : value;
  const rowDescription = description['item[]'];
  if (rowDescription !== undefined) {
    const item = (value as { item?: unknown } | null | undefined)?.item;
    const rows = item === undefined || item === null ? [] : Array.isArray(item) ? item : [item];
    return rows.length === 0 ? {} : { item: rows.map((row) => conformToSchema(row, rowDescription)) };
  }
  if (value === null || value === undefined || typeof value !== 'object') return value ?? {};
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(description)) {
    if (META_KEYS.has(name) || !(name in source)) continue;
    out[name] = conformToSchema(source[name], child);
  }
  // Anything the WSDL does not know stays (at the end), so a validating client still sees the mistake.
  for (const [name, v] of Object.entries(source)) if (!(name in out)) out[name] = v;
  return out;
}
