/**
 * Salesforce record ids: 15 case-sensitive characters (3-char key prefix + pod/reserved chars + counter),
 * or 18 characters = the 15 plus a 3-character checksum that makes the id safe for case-insensitive
 * systems. The API always answers with 18-character ids and accepts either form on input.
 */

/** Key prefixes of the objects the simulator knows (plus the non-record ids it hands out). */
export const KEY_PREFIXES = {
  Account: '001',
  Contact: '003',
  User: '005',
  Opportunity: '006',
  Organization: '00D',
  Order: '801',
  QueryLocator: '01g',
} as const;

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_CHARS = /^[0-9A-Za-z]+$/;

/**
 * The case-safe suffix: for each 5-character block of the 15-char id, a 5-bit number whose bit i is set
 * when character i of the block is an upper-case letter, mapped onto A-Z0-5.
 */
export function checksum(id15: string): string {
  if (id15.length !== 15 || !ID_CHARS.test(id15))
    throw new Error(`not a 15-character Salesforce id: ${id15}`);
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(block * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** 15 -> 18 characters; an 18-character id is returned with its checksum recomputed from its first 15. */
export function to18(id: string): string {
  const base = id.slice(0, 15);
  return base + checksum(base);
}

/**
 * Normalises an id taken from a request: 15 chars -> 18; 18 chars must carry the right checksum for
 * their first 15 characters (Salesforce matches the suffix case-insensitively). Anything else -> undefined.
 */
export function normalizeId(id: string): string | undefined {
  if (!ID_CHARS.test(id)) return undefined;
  if (id.length === 15) return to18(id);
  if (id.length === 18) {
    const expected = checksum(id.slice(0, 15));
    return id.slice(15).toUpperCase() === expected ? id.slice(0, 15) + expected : undefined;
  }
  return undefined;
}

/**
 * Hands out fresh 18-char ids: prefix + 2-char pod ("Dn") + reserved "0" + 9-char base-62 counter.
 * The counter is spread by a multiplier so consecutive ids differ in case as real ones do, which keeps the
 * checksum non-trivial in tests.
 */
export class IdGenerator {
  private counters = new Map<string, number>();

  constructor(private readonly pod = 'Dn') {}

  next(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    // 62^9 is far above any counter; the odd multiplier is a bijection modulo 62^9 for our range.
    let value = BigInt(n) * 2654435761n + 916132832n;
    let tail = '';
    for (let i = 0; i < 9; i++) {
      tail = BASE62.charAt(Number(value % 62n)) + tail;
      value /= 62n;
    }
    return to18(prefix + this.pod + '0' + tail);
  }

  reset(): void {
    this.counters.clear();
  }
}
