import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  condition,
  defineSignal,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';

/** The project's step attribute (registered on the benchmark's server like every project attribute). */
const IntegrationStep = defineSearchAttributeKey('IntegrationStep', SearchAttributeType.KEYWORD);

/**
 * The engine floor: the customer flow's shape with activities that do nothing. `shape` lists the
 * steps in order, `a` for an activity on the workflow's own task queue (dispatched eagerly where the
 * server allows it) and `l` for a local activity. No saga, no payloads beyond the ids: what Temporal
 * itself costs for that many durable steps. `u` upserts a search attribute without waiting: it goes out
 * with the workflow task's next command, as the project's one upsert per workflow task does, so a
 * shape with the project's upserts measures what they cost the server and its visibility store.
 */
export async function engineFloor(input: { shape: string }): Promise<number> {
  const remote = proxyActivities<{ noop(): Promise<void> }>({
    startToCloseTimeout: '30s',
    taskQueue: workflowInfo().taskQueue,
  });
  const local = proxyLocalActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '5s' });
  let steps = 0;
  for (const kind of input.shape) {
    steps++;
    if (kind === 'u') upsertSearchAttributes([{ key: IntegrationStep, value: `step-${steps}` }]);
    else await (kind === 'l' ? local.noop() : remote.noop());
  }
  return steps;
}

/**
 * The engine floor of an entity workflow's intake: a long-lived workflow that takes change signals and
 * does nothing with them. Each signal-with-start costs the server a signal (and, for a new id, a start)
 * and the worker one workflow task: what every change costs before the coordinator's own code runs.
 */
export const floorChangeSignal = defineSignal<[{ n: number }]>('change');

export async function signalFloor(): Promise<void> {
  let received = 0;
  setHandler(floorChangeSignal, () => void (received += 1));
  // Lives until the benchmark's server goes away, like an entity workflow between its events.
  await condition(() => received < 0);
}
