import { parseArgs } from 'node:util';
import { z } from 'zod';
import { accessKeyIdPattern, accessScopes, newAccessKey } from '../src/security/access-keys';

/**
 * `npm run keys:new -- --id ops-alice --scopes runs:read,runs:operate [--per-minute 600]`: prints a new
 * access key (give it to its holder; it is shown once) and the ACCESS_KEYS entry holding its SHA-256.
 */
const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    scopes: { type: 'string' },
    'per-minute': { type: 'string', default: '600' },
  },
});
const parsed = z
  .object({
    id: z.string().regex(accessKeyIdPattern, 'lower-case letters, digits and dashes, at most 40'),
    scopes: z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()))
      .pipe(z.array(z.enum(accessScopes)).min(1)),
    perMinute: z.coerce.number().int().positive(),
  })
  .safeParse({ id: values.id, scopes: values.scopes ?? '', perMinute: values['per-minute'] });
if (!parsed.success) {
  console.error(
    `keys:new: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}\n` +
      `usage: npm run keys:new -- --id <id> --scopes <${accessScopes.join('|')}>[,...] [--per-minute N]`,
  );
  process.exit(2);
}
const { key, entry } = newAccessKey(parsed.data.id, parsed.data.scopes, parsed.data.perMinute);
console.log(`key (give it to its holder; it is not stored anywhere):\n  ${key}\n`);
console.log(`ACCESS_KEYS entry (add it to the JSON array):\n  ${JSON.stringify(entry)}`);
