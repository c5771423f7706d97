import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: the CLI's working directory in tests. */
export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(root, 'bin/syncflow.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `syncflow` command (bin/syncflow.js, or `command`) in a child process. */
export function cli(args: string[], options: { command?: string[] } = {}): Promise<CliResult> {
  const [command, ...pre] = options.command ?? [process.execPath, bin];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...pre, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
