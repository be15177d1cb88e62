/**
 * What a process has cost the machine so far, from /proc (Linux only): CPU time and resident memory,
 * and the pid of the dev server a benchmark started.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) the process has used so far; NaN once it is gone (or off Linux). */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1000 / clockTicks);
  } catch {
    return NaN;
  }
}

/** Resident set size in MB; NaN once the process is gone (or off Linux). */
export function procRssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The pid of the dev server listening on the address's port (`temporal server start-dev ... --port P`). */
export function findDevServerPid(address: string): number | undefined {
  const port = address.split(':').pop();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let argv: string[];
      try {
        argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      } catch {
        continue;
      }
      const i = argv.indexOf('--port');
      if (argv.includes('start-dev') && i >= 0 && argv[i + 1] === port) return Number(entry);
    }
  } catch {
    // not Linux
  }
  return undefined;
}
