import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** How to obtain the Temporal dev server: a binary on this machine, or the SDK's own download. */
export type TemporalExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

const script = resolve(__dirname, '../../scripts/temporal-cli.sh');

/**
 * Resolves the Temporal CLI through scripts/temporal-cli.sh (env override, PATH, project cache, Go
 * build). When neither a binary nor Go is available the script exits 3 and we fall back to the SDK's
 * download, which works on machines with internet access.
 */
export function resolveTemporalExecutable(): TemporalExecutable {
  try {
    const path = execFileSync('bash', [script, '--print-path'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    return { type: 'existing-path', path };
  } catch (err) {
    if ((err as { status?: number }).status === 3) return { type: 'cached-download' };
    throw new Error('could not find or build the Temporal CLI (see the messages above)', { cause: err });
  }
}
