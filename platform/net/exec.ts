/**
 * Runs one external command without a shell and reports its exit code; the network
 * backends use it so tests can substitute a recorder.
 */
import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type Exec = (argv: readonly string[]) => Promise<ExecResult>;

/** Never rejects for a non-zero exit; rejects only when the program cannot be started. */
export const execCommand: Exec = (argv) =>
  new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) {
      reject(new Error('empty command'));
      return;
    }
    execFile(cmd, args, { maxBuffer: 4 * 1024 * 1024, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ code, stdout, stderr });
      if (err.killed) return resolve({ code: 124, stdout, stderr: stderr || 'timed out' });
      reject(err);
    });
  });
