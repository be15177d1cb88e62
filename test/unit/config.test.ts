import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

const valid = { API_TOKEN: 'a-token-of-sixteen-chars' };

describe('configuration', () => {
  it('defaults every system to the local simulators when only the API token is set', () => {
    const config = loadConfig(valid);
    expect(config.SALESFORCE_LOGIN_URL).toBe('http://127.0.0.1:4010');
    expect(config.SAP_ENDPOINT).toBe('http://127.0.0.1:4020/sap/bc/soap/rfc');
    expect(config.WEBHOOK_SUBSCRIBERS[0]?.url).toBe('http://127.0.0.1:4030/hooks/default');
    expect(config.temporal).toEqual({
      namespace: 'default',
      connectionOptions: { address: '127.0.0.1:7233' },
    });
  });

  it('points the simulator URL defaults at the SIM_*_PORT a variable moves a simulator to', () => {
    const config = loadConfig({
      ...valid,
      SIM_SALESFORCE_PORT: '14010',
      SIM_SAP_PORT: '14020',
      SIM_WEBHOOK_PORT: '14030',
      SIM_INVENTORY_PORT: '14040',
      SIM_BILLING_PORT: '14050',
    });
    expect(config.SALESFORCE_LOGIN_URL).toBe('http://127.0.0.1:14010');
    expect(config.SAP_ENDPOINT).toBe('http://127.0.0.1:14020/sap/bc/soap/rfc');
    expect(config.WEBHOOK_SUBSCRIBERS[0]?.url).toBe('http://127.0.0.1:14030/hooks/default');
    expect(config.INVENTORY_BASE_URL).toBe('http://127.0.0.1:14040');
    expect(config.BILLING_API_URL).toBe('http://127.0.0.1:14050');
    // A URL that is set wins over the port.
    const set = loadConfig({
      ...valid,
      SIM_SALESFORCE_PORT: '14010',
      SALESFORCE_LOGIN_URL: 'https://login.example.com',
    });
    expect(set.SALESFORCE_LOGIN_URL).toBe('https://login.example.com');
    // Port 0 (any free port) names no URL: the default stays.
    expect(loadConfig({ ...valid, SIM_SAP_PORT: '0' }).SAP_ENDPOINT).toBe(
      'http://127.0.0.1:4020/sap/bc/soap/rfc',
    );
  });

  it('names every missing or invalid variable in one error', () => {
    let error: unknown;
    try {
      loadConfig(
        {
          API_PORT: 'eighty',
          SALESFORCE_LOGIN_URL: 'not a url',
          SAP_SALES_ORG: '10000',
          WEBHOOK_SUBSCRIBERS: '[{"name":"Bad Name","url":"http://x","secret":"plain"}]',
          LOG_LEVEL: 'LOUD',
        },
        { forApi: true },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual(
      [
        'API_PORT',
        'API_TOKEN',
        'LOG_LEVEL',
        'SALESFORCE_LOGIN_URL',
        'SAP_SALES_ORG',
        'WEBHOOK_SUBSCRIBERS (0.name)',
        'WEBHOOK_SUBSCRIBERS (0.secret)',
      ].sort(),
    );
    expect((error as ConfigError).message).toContain('API_TOKEN');
  });

  it('requires the API token only of the API', () => {
    expect(loadConfig({}).API_TOKEN).toBeUndefined();
    expect(() => loadConfig({}, { forApi: true })).toThrow(/API_TOKEN: required by the API/);
    expect(loadConfig(valid, { forApi: true }).API_TOKEN).toBe(valid.API_TOKEN);
  });

  it('rejects a subscriber list that is not JSON', () => {
    expect(() => loadConfig({ ...valid, WEBHOOK_SUBSCRIBERS: 'http://x' })).toThrow(
      /WEBHOOK_SUBSCRIBERS: must be a JSON array/,
    );
  });

  it('takes the Temporal connection from Temporal’s own variables', () => {
    const config = loadConfig({
      ...valid,
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
      TEMPORAL_API_KEY: 'key-123',
    });
    expect(config.temporal.namespace).toBe('my-ns.a1b2c');
    expect(config.temporal.connectionOptions).toMatchObject({
      address: 'my-ns.a1b2c.tmprl.cloud:7233',
      apiKey: 'key-123',
      tls: true,
    });
  });

  it('sizes the worker’s memory by default and refuses out-of-range values, naming the variable', () => {
    const config = loadConfig(valid);
    expect(config.WORKER_MAX_CACHED_WORKFLOWS).toBe(250);
    expect(config.WORKER_WORKFLOW_HEAP_MB).toBe(512);
    expect(config.WORKER_WORKFLOW_SEMI_SPACE_MB).toBe(4);
    expect(config.WORKER_MAIN_SEMI_SPACE_MB).toBe(4);
    expect(config.MALLOC_ARENA_MAX).toBeUndefined();
    const set = loadConfig({
      ...valid,
      WORKER_MAX_CACHED_WORKFLOWS: '1000',
      WORKER_WORKFLOW_HEAP_MB: '2048',
      WORKER_WORKFLOW_SEMI_SPACE_MB: '16',
      WORKER_MAIN_SEMI_SPACE_MB: '8',
      MALLOC_ARENA_MAX: '4',
    });
    expect(set).toMatchObject({
      WORKER_MAX_CACHED_WORKFLOWS: 1000,
      WORKER_WORKFLOW_HEAP_MB: 2048,
      WORKER_WORKFLOW_SEMI_SPACE_MB: 16,
      WORKER_MAIN_SEMI_SPACE_MB: 8,
      MALLOC_ARENA_MAX: 4,
    });
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig({ ...valid, ...env });
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(refused({ WORKER_MAX_CACHED_WORKFLOWS: '1' })).toEqual([
      'WORKER_MAX_CACHED_WORKFLOWS: at least 2 (runs kept between their workflow tasks)',
    ]);
    expect(refused({ WORKER_MAX_CACHED_WORKFLOWS: 'lots' })[0]).toMatch(/^WORKER_MAX_CACHED_WORKFLOWS: /);
    expect(refused({ WORKER_WORKFLOW_HEAP_MB: '64' })).toEqual([
      'WORKER_WORKFLOW_HEAP_MB: at least 128 (MiB)',
    ]);
    expect(refused({ WORKER_WORKFLOW_HEAP_MB: '1.5' })[0]).toMatch(/^WORKER_WORKFLOW_HEAP_MB: /);
    expect(refused({ WORKER_WORKFLOW_SEMI_SPACE_MB: '0' })).toEqual([
      'WORKER_WORKFLOW_SEMI_SPACE_MB: at least 1 (MiB)',
    ]);
    expect(refused({ WORKER_WORKFLOW_SEMI_SPACE_MB: '128' })).toEqual([
      'WORKER_WORKFLOW_SEMI_SPACE_MB: at most 64 (MiB)',
    ]);
    expect(refused({ WORKER_MAIN_SEMI_SPACE_MB: '0' })).toEqual([
      'WORKER_MAIN_SEMI_SPACE_MB: at least 1 (MiB)',
    ]);
    expect(refused({ WORKER_MAIN_SEMI_SPACE_MB: '65' })).toEqual([
      'WORKER_MAIN_SEMI_SPACE_MB: at most 64 (MiB)',
    ]);
    expect(refused({ WORKER_MAIN_SEMI_SPACE_MB: 'small' })[0]).toMatch(/^WORKER_MAIN_SEMI_SPACE_MB: /);
    expect(refused({ MALLOC_ARENA_MAX: 'two' })[0]).toMatch(/^MALLOC_ARENA_MAX: /);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...valid, API_PORT: '' }).API_PORT).toBe(3000);
  });

  it('gives each event source its own default signing secret, and refuses one shared by two sources', () => {
    const config = loadConfig(valid);
    const secrets = [
      config.SALESFORCE_EVENTS_SECRET,
      config.SAP_EVENTS_SECRET,
      config.INVENTORY_EVENTS_SECRET,
    ];
    expect(new Set(secrets).size).toBe(3);
    const shared = 'whsec_c2hhcmVkLXNlY3JldC1vZi10d28tc291cmNlcw==';
    expect(() =>
      loadConfig({ ...valid, SALESFORCE_EVENTS_SECRET: shared, INVENTORY_EVENTS_SECRET: shared }),
    ).toThrow(/INVENTORY_EVENTS_SECRET: must differ from SALESFORCE_EVENTS_SECRET/);
  });
});
