import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/observability/logging';

type Listener = (line: string) => void;

interface TestLogSink {
  /** The logger the test runtime's Temporal logger writes into (its level can be raised per test). */
  workerLogger: Logger;
  listeners: Set<Listener>;
}

const key = Symbol.for('integration-coordinator.test-log-sink');
const store = globalThis as unknown as Record<symbol, TestLogSink | undefined>;

/** A pino destination that hands every line to the listeners and, when asked, to stderr. */
function sinkStream(listeners: Set<Listener>, echo: boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString();
      for (const line of text.split('\n')) if (line) for (const l of listeners) l(line);
      if (echo) process.stderr.write(text);
      done();
    },
  });
}

/** The process-wide sink of worker logs in tests (created by test/setup-runtime.ts). */
export function testLogSink(level: string): TestLogSink {
  let sink = store[key];
  if (!sink) {
    const listeners = new Set<Listener>();
    sink = {
      listeners,
      workerLogger: createLogger({
        service: 'integration-worker',
        level,
        destination: sinkStream(listeners, process.env.TEST_LOG_LEVEL !== undefined),
      }),
    };
    store[key] = sink;
  }
  return sink;
}

/**
 * Captures every JSON line the worker's Temporal logger writes (at `level`) until `stop()`; also
 * returns a logger for an API under test that writes into the same capture.
 */
export function captureLogs(level = 'debug') {
  const sink = store[key];
  if (!sink) throw new Error('test/setup-runtime.ts did not create the log sink');
  const lines: string[] = [];
  const listener: Listener = (line) => lines.push(line);
  sink.listeners.add(listener);
  const previous = sink.workerLogger.level;
  sink.workerLogger.level = level;
  const apiListeners = new Set<Listener>([listener]);
  const apiLogger = createLogger({
    service: 'integration-api',
    level,
    destination: sinkStream(apiListeners, false),
  });
  return {
    lines,
    apiLogger,
    stop() {
      sink.listeners.delete(listener);
      sink.workerLogger.level = previous;
    },
  };
}
