import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../src/simulators/common/faults';

/** The shared fault model's matching, as every simulator applies it (pure logic). */
describe('fault rules', () => {
  const request = (body: string) => ({
    method: 'POST',
    path: '/sap/bc/soap/rfc',
    operation: 'BAPI_CUSTOMER_CREATEFROMDATA1',
    body: () => body,
  });

  it('a rule with bodyIncludes fires only for requests whose body holds the text', () => {
    const faults = new FaultInjector(['service-unavailable']);
    const rule = faults.addRule({
      kind: 'service-unavailable',
      rate: 1,
      match: { operation: 'BAPI_CUSTOMER_CREATEFROMDATA1', bodyIncludes: '<NAME>Held GmbH</NAME>' },
    });
    expect(faults.decide(request('<NAME>Other AG</NAME>')).rule).toBeUndefined();
    expect(faults.decide(request('<NAME>Held GmbH</NAME>')).rule?.kind).toBe('service-unavailable');
    expect(
      faults.decide({ method: 'POST', path: '/x', operation: 'BAPI_CUSTOMER_CREATEFROMDATA1' }).rule,
    ).toBe(undefined);
    expect(rule.fired).toBe(1);
  });

  it('reads the body only when a rule matches on it', () => {
    const faults = new FaultInjector(['server-error']);
    faults.addRule({ kind: 'server-error', rate: 1, match: { operation: 'other' } });
    let reads = 0;
    faults.decide({ method: 'POST', path: '/x', operation: 'BAPI_X', body: () => String(++reads) });
    expect(reads).toBe(0);
  });
});
