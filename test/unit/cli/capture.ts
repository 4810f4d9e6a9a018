import { jest } from '@jest/globals';
import { main } from '../../../src/cli/program.js';

export interface Captured {
  code: number;
  stdout: string;
  /** What the command wrote to stderr, without Node's notices about VM modules (jest's ESM mode). */
  stderr: string;
}

/** Runs `plexus <args>` in this process and captures its exit code, stdout and stderr. */
export async function runCli(...args: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'plexus', ...args]);
    const own = stderr
      .split('\n')
      .filter((l) => !/ExperimentalWarning|--trace-warnings/.test(l))
      .join('\n');
    return { code, stdout, stderr: own };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}
