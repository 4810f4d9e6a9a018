/**
 * Typed errors shared by every layer. Each carries a stable `code` and a message written for a person:
 * it names the file, node and field (or resource) and says what is wrong. The CLI prints `message` only;
 * the stack is shown with `--debug`.
 */
export class PlexusError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Input a user gave us is wrong (script, params, data file, spec). Retrying will not help. */
export class UserInputError extends PlexusError {}

/** A service we depend on is unreachable or timed out. Retrying later may help. */
export class TransientError extends PlexusError {}

/** Several problems found at once (validation reports everything before touching data). */
export class AggregateUserError extends UserInputError {
  readonly problems: readonly string[];

  constructor(code: string, problems: readonly string[]) {
    super(code, problems.join('\n'));
    this.problems = problems;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function isTransient(err: unknown): boolean {
  return err instanceof TransientError;
}
