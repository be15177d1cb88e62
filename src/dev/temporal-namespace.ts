import type { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';

/**
 * Protobuf numbers of `temporal.api.enums.v1.IndexedValueType`, the wire form the operator service
 * takes (stable: they are part of Temporal's public API).
 */
const indexedValueType: Record<SearchAttributeType, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

export interface NamespaceSetupOptions {
  namespace: string;
  /** Retention of closed runs for a namespace created here (existing namespaces are left alone). */
  retentionSeconds?: number;
  searchAttributes: readonly { name: string; type: SearchAttributeType }[];
  /** How long to wait for a new namespace and attributes to become usable (default 60 s). */
  timeoutMs?: number;
}

export interface NamespaceSetupResult {
  namespaceCreated: boolean;
  attributesAdded: string[];
}

/**
 * What a self-hosted cluster needs before the coordinator runs on it (the dev server gets the same
 * through its start-up flags): the namespace, and the custom search attributes the workflows set.
 * Idempotent; an attribute that exists with another type is an error, never silently accepted.
 */
export async function ensureNamespace(
  connection: Connection,
  options: NamespaceSetupOptions,
): Promise<NamespaceSetupResult> {
  const { namespace } = options;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let namespaceCreated = false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (err) {
    if (grpcCode(err) !== NOT_FOUND) throw err;
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs((options.retentionSeconds ?? 3 * 24 * 3600) * 1000),
      });
      namespaceCreated = true;
    } catch (registerErr) {
      if (grpcCode(registerErr) !== ALREADY_EXISTS) throw registerErr;
    }
  }
  // A new namespace reaches the frontend's namespace cache after its next refresh (seconds).
  const existing = await retryUntil(deadline, `namespace ${namespace} to become usable`, async () => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return customAttributes ?? {};
  });
  const missing: Record<string, number> = {};
  for (const key of options.searchAttributes) {
    const want = indexedValueType[key.type];
    const have = existing[key.name];
    if (have === undefined || have === null) missing[key.name] = want;
    else if (Number(have) !== want) {
      throw new Error(
        `search attribute ${key.name} exists in namespace ${namespace} with another type (${String(have)}, ` +
          `expected ${key.type}); it cannot be changed in place`,
      );
    }
  }
  const attributesAdded = Object.keys(missing);
  if (attributesAdded.length > 0) {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    await retryUntil(deadline, `search attributes ${attributesAdded.join(', ')}`, async () => {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const absent = attributesAdded.filter((name) => customAttributes?.[name] === undefined);
      if (absent.length > 0) throw new Error(`not yet listed: ${absent.join(', ')}`);
      return true;
    });
  }
  return { namespaceCreated, attributesAdded };
}

const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

async function retryUntil<T>(deadline: number, what: string, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** "72h", "3d", "3600s" or plain seconds, as the CLI's --retention takes it. */
export function parseRetention(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) throw new Error(`retention "${value}" is not a duration like 72h, 3d or 3600s`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
