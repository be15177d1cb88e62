import { describe, expect, it } from 'vitest';
import { ConfigError, devAccessKey, devAccessKeys, loadConfig } from '../../src/config';
import {
  AccessKeyring,
  bearerKey,
  hasScope,
  hashAccessKey,
  newAccessKey,
} from '../../src/security/access-keys';

describe('access keys', () => {
  it('verifies a key against its stored SHA-256 only, and names the key it found', () => {
    const { key, entry } = newAccessKey('ops-alice', ['runs:read']);
    expect(entry.sha256).toBe(hashAccessKey(key));
    expect(JSON.stringify(entry)).not.toContain(key.split('.')[1]);
    const ring = new AccessKeyring([entry]);
    expect(ring.verify(key)?.id).toBe('ops-alice');
    expect(ring.verify(`${key}x`)).toBeUndefined();
    expect(ring.verify(key.replace('ops-alice', 'ops-bob'))).toBeUndefined();
    expect(ring.verify('')).toBeUndefined();
    expect(ring.verify(undefined)).toBeUndefined();
  });

  it('admin holds every scope; other keys only their own', () => {
    const admin = newAccessKey('a', ['admin']).entry;
    const reader = newAccessKey('r', ['runs:read']).entry;
    expect(hasScope(admin, 'codec')).toBe(true);
    expect(hasScope(reader, 'runs:read')).toBe(true);
    expect(hasScope(reader, 'codec')).toBe(false);
  });

  it('reads a bearer header', () => {
    expect(bearerKey('Bearer abc.def')).toBe('abc.def');
    expect(bearerKey('Basic abc')).toBeUndefined();
    expect(bearerKey(undefined)).toBeUndefined();
  });

  it('the dev default configures the printed key with every scope', () => {
    const config = loadConfig({ ACCESS_KEYS: devAccessKeys() });
    const found = new AccessKeyring(config.ACCESS_KEYS!).verify(devAccessKey);
    expect(found?.scopes).toEqual(['admin']);
  });

  it('bad key configuration stops start-up naming ACCESS_KEYS', () => {
    const problems = (env: Record<string, string>, forCodecServer = false) => {
      try {
        loadConfig(env, { forCodecServer });
        return [];
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
    };
    expect(problems({}, true)).toEqual([expect.stringMatching(/^ACCESS_KEYS: required by the codec server/)]);
    expect(problems({ ACCESS_KEYS: 'not json' })).toEqual([
      'ACCESS_KEYS: must be a JSON array of {id, sha256, scopes, perMinute}',
    ]);
    const entry = newAccessKey('k', ['codec']).entry;
    expect(problems({ ACCESS_KEYS: JSON.stringify([entry, entry]) })).toEqual([
      'ACCESS_KEYS: key ids must be unique',
    ]);
    expect(
      problems({ ACCESS_KEYS: JSON.stringify([{ ...entry, sha256: 'plain-key', scopes: ['root'] }]) }),
    ).toEqual([
      expect.stringMatching(/^ACCESS_KEYS \(0\.sha256\): the SHA-256 of the key/),
      expect.stringMatching(/^ACCESS_KEYS \(0\.scopes\.0\): Invalid option/),
    ]);
  });
});
