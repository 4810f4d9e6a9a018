import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** The Capillaries suites: PLEXUS_CAPILLARIES_TESTS, else ../shared/capillaries-tests beside the repository. */
export function suitesDir(): string {
  const dir =
    process.env.PLEXUS_CAPILLARIES_TESTS ?? path.resolve(REPO_ROOT, '..', 'shared', 'capillaries-tests');
  if (!fs.existsSync(path.join(dir, 'README.md'))) {
    throw new Error(`Capillaries suites not found at ${dir}: set PLEXUS_CAPILLARIES_TESTS`);
  }
  return dir;
}

/** Copies a suite's cfg/ and in/ into a fresh temporary directory (never writes into the shared copy). */
export function prepareSuite(suite: string): {
  dir: string;
  cfg: string;
  in: string;
  out: string;
  state: string;
} {
  const src = path.join(suitesDir(), suite);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `plexus-${suite}-`));
  const cfg = path.join(dir, 'cfg');
  const input = path.join(dir, 'in');
  fs.cpSync(path.join(src, 'cfg'), cfg, { recursive: true });
  fs.cpSync(path.join(src, 'in'), input, { recursive: true });
  for (const d of [cfg, input]) {
    for (const f of fs.readdirSync(d)) fs.chmodSync(path.join(d, f), 0o644);
  }
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  return { dir, cfg, in: input, out, state: path.join(dir, 'state') };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI from source (through tsx) in a child process. */
export function runCli(args: readonly string[], cwd = REPO_ROOT): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args],
      {
        cwd,
        env: { ...process.env, FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `diff -b` semantics: runs of blanks compare equal, trailing blanks (and \r) are ignored. */
export function normalizeLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/[ \t\r\f\v]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Compares a produced file with the expected one; returns a readable first difference or undefined. */
export function diffFiles(expectedFile: string, actualFile: string, sorted: boolean): string | undefined {
  if (!fs.existsSync(actualFile)) return `${actualFile} was not written`;
  let exp = normalizeLines(fs.readFileSync(expectedFile, 'utf8'));
  let act = normalizeLines(fs.readFileSync(actualFile, 'utf8'));
  if (sorted) {
    // `sort` with LC_ALL=C: byte order
    const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
    exp = [...exp].sort(byBytes);
    act = [...act].sort(byBytes);
  }
  const n = Math.max(exp.length, act.length);
  for (let i = 0; i < n; i++) {
    if (exp[i] !== act[i]) {
      return `${path.basename(actualFile)} line ${i + 1}: expected ${JSON.stringify(exp[i])}, got ${JSON.stringify(act[i])} (expected ${exp.length} lines, got ${act.length})`;
    }
  }
  return undefined;
}
