import { setFlagsFromString } from 'node:v8';

export interface WorkflowThreadHeap {
  /** Limit of the old generation, MiB: V8 collects sooner the closer the heap is to its limit. */
  oldSpaceMb: number;
  /** Size of each of the young generation's two semi-spaces, MiB. */
  semiSpaceMb: number;
}

/** The V8 flags that give an isolate this heap. */
export function workflowThreadHeapFlags(heap: WorkflowThreadHeap): string[] {
  return [`--max-old-space-size=${heap.oldSpaceMb}`, `--max-semi-space-size=${heap.semiSpaceMb}`];
}

/**
 * Sizes the V8 heap of the isolates this process creates from now on: the SDK's workflow thread, which
 * runs every workflow of the worker and keeps the cached runs' state. V8 reads these flags when it sets
 * up a new isolate's heap; the main thread's heap, set up at start, keeps its size. Without them the
 * workflow thread gets V8's defaults for the machine (on 24 GB: a 4 GB old generation, which V8 lets
 * grow to about four times its live data before collecting, and 16 MB semi-spaces). Call before the
 * workers are created.
 */
export function sizeWorkflowThreadHeap(heap: WorkflowThreadHeap): void {
  for (const flag of workflowThreadHeapFlags(heap)) setFlagsFromString(flag);
}
