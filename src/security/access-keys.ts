import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Access keys of the operator-facing HTTP surfaces (the codec server; the API's scoped keys build on
 * the same entries). A key is `<id>.<secret>`: the id names it in logs and audit lines, the secret is
 * 32 random bytes. Configuration holds only the SHA-256 of the whole key, never the key: a leaked
 * configuration or log grants nothing. SHA-256 (not a slow password hash) is enough because the secret
 * is random and long; there is nothing to guess.
 */
export const accessScopes = ['flows:start', 'runs:read', 'runs:operate', 'codec', 'admin'] as const;
export type AccessScope = (typeof accessScopes)[number];

export const accessKeyIdPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;

export const accessKeyEntrySchema = z
  .object({
    id: z.string().regex(accessKeyIdPattern, 'lower-case letters, digits and dashes, at most 40'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'the SHA-256 of the key, 64 lower-case hex digits (npm run keys:new)'),
    scopes: z.array(z.enum(accessScopes)).min(1),
    /** Requests per minute this key may make on each surface; more answer 429 with Retry-After. */
    perMinute: z.number().int().positive().default(600),
  })
  .strict();
export type AccessKeyEntry = z.infer<typeof accessKeyEntrySchema>;

export const accessKeyListSchema = z
  .array(accessKeyEntrySchema)
  .min(1)
  .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be unique');

export function hashAccessKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key and its configuration entry (`npm run keys:new`). */
export function newAccessKey(
  id: string,
  scopes: AccessScope[],
  perMinute = 600,
): { key: string; entry: AccessKeyEntry } {
  if (!accessKeyIdPattern.test(id)) throw new Error(`key id "${id}": lower-case letters, digits and dashes`);
  const key = `${id}.${randomBytes(32).toString('base64url')}`;
  return { key, entry: { id, sha256: hashAccessKey(key), scopes, perMinute } };
}

/** `admin` holds every scope. */
export function hasScope(entry: AccessKeyEntry, scope: AccessScope): boolean {
  return entry.scopes.includes(scope) || entry.scopes.includes('admin');
}

export class AccessKeyring {
  private readonly byId: Map<string, { entry: AccessKeyEntry; digest: Buffer }>;
  private readonly dummy = Buffer.alloc(32);

  constructor(entries: readonly AccessKeyEntry[]) {
    this.byId = new Map(entries.map((e) => [e.id, { entry: e, digest: Buffer.from(e.sha256, 'hex') }]));
  }

  /** The entry of a presented key, or undefined; the digests are compared in constant time. */
  verify(presented: string | undefined): AccessKeyEntry | undefined {
    if (!presented || presented.length > 200) return undefined;
    const id = presented.slice(0, Math.max(0, presented.indexOf('.')));
    const known = this.byId.get(id);
    const given = createHash('sha256').update(presented, 'utf8').digest();
    const equal = timingSafeEqual(given, known?.digest ?? this.dummy);
    return known && equal ? known.entry : undefined;
  }
}

/** The key of an `Authorization: Bearer <key>` header, if any. */
export function bearerKey(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
