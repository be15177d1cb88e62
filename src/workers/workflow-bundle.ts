import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withoutSemiSpaceSize } from './main-thread-heap';

export interface BundleRequest {
  tracing: boolean;
  instrumentation: boolean;
  /** File the child writes the bundle to. */
  outFile: string;
}

export type BundleReply = { ok: true } | { ok: false; error: string };

export interface BundleFile {
  /** The SDK's `workflowBundle: { codePath }`. */
  codePath: string;
  /** Deletes the file; call once the workers are created (the SDK reads it once, in `Worker.create`). */
  remove(): Promise<void>;
}

/**
 * Bundles the workflow code (webpack + swc, what `bundleWorkflowCode` does) in a short-lived child
 * process that writes the bundle to a file. Same code as bundling in the worker itself, but the
 * bundler's heap (about 110 MB that V8 keeps as resident memory long after the bundle is built) dies
 * with the child: measured 330 MB resident for an idle worker that bundled in-process against 216 MB
 * with a pre-built bundle.
 *
 * A file, not the code itself: the SDK keeps the `workflowBundle` option it was given in the Worker's
 * options for the worker's life, so `{ code }` would pin the bundle's source (3.4 M characters, held
 * as a two-byte string: about 7 MB) in the main thread's heap, which never runs a workflow. With
 * `{ codePath }` the SDK reads the file once, hands the code to its workflow thread and lets it go.
 * The bundle is built at every start from the sources the worker runs, so it can never be stale.
 */
export async function bundleWorkflowsInChild(request: Omit<BundleRequest, 'outFile'>): Promise<BundleFile> {
  const dir = await mkdtemp(join(tmpdir(), 'workflow-bundle-'));
  const codePath = join(dir, 'workflow-bundle.js');
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await runBundler({ ...request, outFile: codePath });
  } catch (err) {
    await remove();
    throw err;
  }
  return { codePath, remove };
}

function runBundler(request: BundleRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    // The worker runs under tsx; the child needs the same loader flags (process.execArgv), and tsx's
    // loader if this process was started some other way (a test runner). Not the main thread's small
    // young generation: webpack allocates a lot, briefly, in a process that exits.
    const ownFlags = withoutSemiSpaceSize(process.execArgv);
    const execArgv = ownFlags.some((flag) => flag.includes('tsx'))
      ? ownFlags
      : ['--import', 'tsx', ...ownFlags];
    const child = fork(join(__dirname, 'bundle-child.ts'), [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.once('message', (reply: BundleReply) => {
      settled = true;
      if (reply.ok) resolve();
      else reject(new Error(`bundling the workflow code failed:\n${reply.error}`));
    });
    child.once('error', (err) => {
      if (!settled) reject(err);
    });
    child.once('exit', (code, signal) => {
      if (!settled)
        reject(new Error(`the workflow bundler exited (${signal ?? `code ${code}`}) without a bundle`));
    });
    child.send(request);
  });
}
