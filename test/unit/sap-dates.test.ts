import { describe, expect, it } from 'vitest';
import { fromSapOrder, calendarDate } from '../../src/domain/order-sync';

describe('SAP dates in the coordinator mappings', () => {
  it('an initial SAP date (0000-00-00, or 00000000 in YYYYMMDD payloads) is no date at all', () => {
    expect(calendarDate('0000-00-00')).toBeUndefined();
    expect(calendarDate('00000000')).toBeUndefined();
    expect(calendarDate('')).toBeUndefined();
    expect(calendarDate(null)).toBeUndefined();
  });

  it('real dates come through in ISO form', () => {
    expect(calendarDate('2026-12-01')).toBe('2026-12-01');
    expect(calendarDate('20261201')).toBe('2026-12-01');
  });

  it('an order event with an initial requested date changes no requested date', () => {
    const values = fromSapOrder({ NET_VALUE: 10, REQ_DATE_H: '0000-00-00', items: [] });
    expect(values).toEqual({ amount: 10 });
  });
});
