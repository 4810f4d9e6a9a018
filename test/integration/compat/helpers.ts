import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from '../capillaries/harness.js';

export const COMPAT_DIR = import.meta.dirname;

export interface Scenario {
  /** Temporary directory of this run (removed by cleanup()). */
  readonly dir: string;
  /** Output directory (`dir_out`). */
  readonly out: string;
  run(
    script: string,
    opts: { params?: string; startNodes: string; param?: Record<string, string> },
  ): Promise<CliResult>;
  cleanup(): void;
}

/** A scenario folder under test/integration/compat: cfg/ (scripts, params), in/ (inputs), expected/. */
export function scenario(name: string): Scenario {
  const src = path.join(COMPAT_DIR, name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `plexus-compat-${name}-`));
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  return {
    dir,
    out,
    run: (script, opts) => {
      const params: Record<string, string> = {
        dir_in: path.join(src, 'in'),
        dir_out: out,
        dir_cfg: path.join(src, 'cfg'),
        ...opts.param,
      };
      const args = [
        'run',
        path.isAbsolute(script) ? script : path.join(src, 'cfg', script),
        '--keyspace',
        `compat_${name}`,
        '--state-dir',
        path.join(dir, 'state'),
        '--workers',
        '2',
        '--no-progress',
        '--start-nodes',
        opts.startNodes,
      ];
      if (opts.params !== undefined) {
        args.push(
          '--params',
          path.isAbsolute(opts.params) ? opts.params : path.join(src, 'cfg', opts.params),
        );
      }
      // the folders are passed as overrides unless the run is meant to have no parameters at all
      if (opts.param !== undefined) {
        args.push('--param', ...Object.entries(params).map(([k, v]) => `${k}=${v}`));
      }
      return runCli(args);
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export function expectOk(res: CliResult): void {
  if (res.code !== 0) throw new Error(`plexus run exited with ${res.code}\n${res.stdout}\n${res.stderr}`);
}

/** Data lines of several CSV outputs (header of each dropped), concatenated and sorted byte-wise. */
export function sortedDataLines(files: readonly string[]): string[] {
  const lines: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8').replace(/\r/g, '');
    lines.push(
      ...text
        .split('\n')
        .slice(1)
        .filter((l) => l !== ''),
    );
  }
  return lines.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export function readLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l !== '');
}
