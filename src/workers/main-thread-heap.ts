/**
 * The young generation of the worker's main thread (activities, the SDK's core bridge, the clients).
 * V8 sizes an isolate's heap once, when it is set up; the main thread's is set up before any code of
 * ours runs, so its semi-space size can only come from the command line that starts the process
 * (`node --max-semi-space-size=N`, or `NODE_OPTIONS`). Without it V8 lets each of the two semi-spaces
 * grow to 16 MiB (64-bit), 32 MiB resident under load in a process whose main thread mostly moves
 * short-lived messages.
 */

/** The node flags that give the main thread semi-spaces of `semiSpaceMb` MiB. */
export function mainThreadHeapFlags(semiSpaceMb: number): string[] {
  return [`--max-semi-space-size=${semiSpaceMb}`];
}

/**
 * The flags a launcher (`npm start`, the benchmark) puts on the worker's node command line: none if
 * the deployment's `NODE_OPTIONS` already sizes the semi-spaces (that choice wins).
 */
export function workerNodeFlags(semiSpaceMb: number, nodeOptions?: string): string[] {
  return startedWithSemiSpaceSize([], nodeOptions) ? [] : mainThreadHeapFlags(semiSpaceMb);
}

const semiSpaceFlag = /^--max[-_]semi[-_]space[-_]size(?:=|$)/;

/** Whether the process was started with a semi-space size (its own flags or `NODE_OPTIONS`). */
export function startedWithSemiSpaceSize(execArgv: readonly string[], nodeOptions = ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => semiSpaceFlag.test(flag));
}

/** Node flags without a semi-space size: for short-lived children (the bundler), V8's default suits. */
export function withoutSemiSpaceSize(execArgv: readonly string[]): string[] {
  return execArgv.filter((flag) => !semiSpaceFlag.test(flag));
}

export interface Relaunch {
  file: string;
  args: string[];
}

/**
 * How to start this process again with the main thread's semi-spaces at `semiSpaceMb`: the same
 * node, node flags and script, with the flag in front. Undefined when the process was already started
 * with a semi-space size (by `npm start`, the benchmark, or the deployment's own `NODE_OPTIONS`,
 * which wins).
 */
export function relaunchWithMainThreadHeap(
  semiSpaceMb: number,
  proc: Pick<NodeJS.Process, 'execPath' | 'execArgv' | 'argv'> & { env: NodeJS.ProcessEnv },
): Relaunch | undefined {
  if (startedWithSemiSpaceSize(proc.execArgv, proc.env.NODE_OPTIONS)) return undefined;
  return {
    file: proc.execPath,
    args: [proc.execPath, ...mainThreadHeapFlags(semiSpaceMb), ...proc.execArgv, ...proc.argv.slice(1)],
  };
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/**
 * Gives the main thread its configured young generation: if the process was not started with a
 * semi-space size, replaces it (same pid, `process.execve`, Node >= 22.15) with the same command and
 * the flag; this is how `npm run worker` and the Docker image get it. Call first thing, before any
 * thread or connection exists. Returns a warning when that is not possible (an older Node started
 * without the flag); `npm start` passes the flag itself.
 */
export function applyMainThreadHeap(semiSpaceMb: number): string | undefined {
  const relaunch = relaunchWithMainThreadHeap(semiSpaceMb, process);
  if (!relaunch) return undefined;
  const execve = (process as { execve?: Execve }).execve;
  if (typeof execve !== 'function')
    return (
      `the main thread's semi-spaces are V8's default: this Node (${process.version}) cannot restart ` +
      `the worker with WORKER_MAIN_SEMI_SPACE_MB=${semiSpaceMb}; start it with ` +
      `node ${mainThreadHeapFlags(semiSpaceMb).join(' ')} (or NODE_OPTIONS)`
    );
  return execve.call(process, relaunch.file, relaunch.args, process.env);
}
