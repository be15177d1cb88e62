import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { redact, scrubText } from '../../src/observability/logging';
import { tracingExporterKind } from '../../src/observability/tracing';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('metric and tracing configuration fails fast, naming the variable', () => {
  it.each([
    ['METRICS_PORT', 'not-a-port'],
    ['METRICS_PORT', '70000'],
    ['OTEL_TRACES_EXPORTER', 'zipkin'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'ftp://collector'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_SDK_DISABLED', 'maybe'],
    ['OTEL_SERVICE_NAME', 'has spaces'],
  ])('%s=%s', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('tracing is off by default and follows the standard variables', () => {
    expect(tracingExporterKind({})).toBeUndefined();
    expect(tracingExporterKind({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe('otlp');
    expect(tracingExporterKind({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('otlp');
    expect(
      tracingExporterKind({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
    ).toBeUndefined();
    expect(tracingExporterKind({ OTEL_SDK_DISABLED: true, OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined();
    const config = loadConfig({ OTEL_TRACES_EXPORTER: 'console' });
    expect(tracingExporterKind(config)).toBe('console');
  });
});

describe('log redaction', () => {
  it('redacts personal and secret fields at any depth and scrubs e-mail addresses and phone numbers from text', () => {
    const out = redact({
      workflowId: 'customer-creation:crm-42',
      customer: { firstName: 'Ada' },
      input: { lastName: 'Lovelace', email: 'ada@example.com', address: { street: '1 Main St' } },
      headers: { authorization: 'Bearer abc', 'x-other': 'fine' },
      error: new Error('SAP rejected ada@example.com, call +44 20 7946 0958'),
      list: [{ phone: '+44 20 7946 0958' }],
    }) as Record<string, any>;
    expect(out.workflowId).toBe('customer-creation:crm-42');
    expect(out.customer).toBe('[redacted]');
    expect(out.input).toEqual({ lastName: '[redacted]', email: '[redacted]', address: '[redacted]' });
    expect(out.headers).toEqual({ authorization: '[redacted]', 'x-other': 'fine' });
    expect(out.error.message).toBe('SAP rejected [email], call [phone]');
    expect(out.list).toEqual([{ phone: '[redacted]' }]);
    expect(scrubText('token whsec_abc+/= and Bearer eyJabc.def')).toBe(
      'token whsec_[redacted] and Bearer [redacted]',
    );
  });

  it('leaves identifiers alone whose digits look like a phone number: trace, span, run and workflow ids', () => {
    // A trace id is 32 random hex digits: one in about 700 starts with 0 and eight more digits.
    const ids = {
      traceId: '012345678af2bbb55b872e52d29e15e7',
      spanId: '0987654321abcdef',
      runId: '9a1f2c3e-0123-4567-8901-a1b2c3d4e5f6',
      parentRunId: '01234567-8901-7234-8567-0123456789ab',
      workflowId: 'order-sync:SO-0123456789',
    };
    expect(redact(ids)).toEqual(ids);
    expect(scrubText(`run ${ids.runId} in trace ${ids.traceId}`)).toBe(
      `run ${ids.runId} in trace ${ids.traceId}`,
    );
  });

  it('still scrubs phone numbers written the usual ways', () => {
    for (const phone of [
      '+44 20 7946 0958',
      '+1-202-555-0143',
      '+4930123456',
      '030 1234567',
      '0049 30 12345678',
      '07946 095812',
      '(0)30-1234-5678',
    ]) {
      expect(scrubText(`call ${phone}.`), phone).not.toMatch(/\d{3}/);
      expect(scrubText(`{"note":"tel:${phone}"}`), phone).toContain('[phone]');
    }
  });
});
