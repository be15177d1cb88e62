export interface LoggedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  operation?: string;
  status: number;
  fault?: string;
  durationMs: number;
}

/** A bounded log of the requests a simulator answered, newest last, for tests and the admin surface. */
export class RequestLog {
  private entries: LoggedRequest[] = [];
  private seq = 0;

  constructor(private readonly capacity = 5000) {}

  add(entry: Omit<LoggedRequest, 'seq'>): void {
    this.entries.push({ ...entry, seq: ++this.seq });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  list(filter: { operation?: string; path?: string; sinceSeq?: number } = {}): LoggedRequest[] {
    return this.entries.filter(
      (e) =>
        (filter.operation === undefined || e.operation === filter.operation) &&
        (filter.path === undefined || e.path.includes(filter.path)) &&
        (filter.sinceSeq === undefined || e.seq > filter.sinceSeq),
    );
  }

  clear(): void {
    this.entries = [];
  }
}
