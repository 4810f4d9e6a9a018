import { PlexusError, TransientError, UserInputError, errorMessage } from '../errors/index.js';

/** A batch cannot be processed because of its input (data, script, formula): retrying will not help. */
export class BatchError extends UserInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BATCH_FAILED', message, options);
  }
}

/**
 * Wraps an error raised while computing a value so that the message says where: the node, the row and
 * the field. Transient errors pass through unchanged (they are retried, not reported as data errors).
 */
export function rowError(where: string, err: unknown): PlexusError {
  if (err instanceof TransientError) return err;
  return new BatchError(`${where}: ${errorMessage(err)}`, { cause: err });
}
