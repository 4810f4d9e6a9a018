import { CommanderError, type Command } from 'commander';
import { AggregateUserError, errorMessage, PlexusError } from '../errors/index.js';

export type CommandRegistrar = (program: Command) => void;

/** `--param k=v` values → overrides; a value without `=` is an error naming it. */
export function parseParamOverrides(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of values ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new PlexusError('BAD_PARAM', `--param ${kv}: expected key=value`);
    out[kv.slice(0, i).trim()] = kv.slice(i + 1);
  }
  return out;
}

/** Prints an error for a person (the message; the stack with --debug) and returns the exit code. */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed usage problems; help and version exit with 0
    return err.exitCode;
  }
  if (debug && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  } else if (err instanceof AggregateUserError) {
    process.stderr.write(
      `error: ${err.problems.length} problem(s):\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`,
    );
  } else {
    process.stderr.write(`error: ${errorMessage(err)}\n`);
  }
  return 1;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function globalDebug(cmd: Command): boolean {
  let c: Command | null = cmd;
  while (c) {
    if (c.opts<{ debug?: boolean }>().debug) return true;
    c = c.parent;
  }
  return false;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}
