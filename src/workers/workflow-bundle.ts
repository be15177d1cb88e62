import { fork } from 'node:child_process';
import { join } from 'node:path';

export interface BundleRequest {
  tracing: boolean;
  instrumentation: boolean;
}

export type BundleReply = { ok: true; code: string } | { ok: false; error: string };

/**
 * Bundles the workflow code (webpack + swc, what `bundleWorkflowCode` does) in a short-lived child
 * process and returns the bundle. Same code as bundling in the worker itself, but the bundler's heap
 * (about 110 MB that V8 keeps as resident memory long after the bundle is built) dies with the child:
 * measured 330 MB resident for an idle worker that bundled in-process against 216 MB with a
 * pre-built bundle. The bundle is built at every start from the sources the worker runs, so it can
 * never be stale.
 */
export function bundleWorkflowsInChild(request: BundleRequest): Promise<{ code: string }> {
  return new Promise((resolve, reject) => {
    // The worker runs under tsx; the child needs the same loader flags (process.execArgv).
    const child = fork(join(__dirname, 'bundle-child.ts'), [], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.once('message', (reply: BundleReply) => {
      settled = true;
      if (reply.ok) resolve({ code: reply.code });
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
