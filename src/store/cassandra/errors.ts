import cassandra from 'cassandra-driver';
import { errorMessage, PlexusError, TransientError, UserInputError } from '../../errors/index.js';

const codes = cassandra.types.responseErrorCodes;

/** Server answers that say "try again later": the cluster is busy, starting, or a replica timed out. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  codes.serverError,
  codes.unavailableException,
  codes.overloaded,
  codes.isBootstrapping,
  codes.truncateError,
  codes.writeTimeout,
  codes.readTimeout,
  codes.readFailure,
  codes.writeFailure,
]);

/**
 * A driver error as a typed Plexus error naming the keyspace and what was being done: unreachable
 * cluster and timeouts are transient (the batch is retried), a missing keyspace is the user's, the rest
 * are store errors.
 */
export function storeError(ks: string, action: string, err: unknown, where: string): PlexusError {
  if (err instanceof PlexusError) return err;
  const msg = errorMessage(err);
  const prefix = ks ? `keyspace ${ks}: ${action}` : action;
  if (err instanceof cassandra.errors.NoHostAvailableError) {
    return new TransientError(
      'STORE_UNAVAILABLE',
      `${prefix}: Cassandra at ${where} is unreachable (${msg})`,
      {
        cause: err,
      },
    );
  }
  if (err instanceof cassandra.errors.OperationTimedOutError) {
    return new TransientError('STORE_TIMEOUT', `${prefix}: Cassandra did not answer in time (${msg})`, {
      cause: err,
    });
  }
  if (err instanceof cassandra.errors.AuthenticationError) {
    return new UserInputError('STORE_AUTH', `${prefix}: Cassandra rejected the credentials (${msg})`, {
      cause: err,
    });
  }
  if (err instanceof cassandra.errors.ResponseError) {
    if (TRANSIENT_CODES.has(err.code)) {
      return new TransientError('STORE_BUSY', `${prefix}: ${msg}`, { cause: err });
    }
    if (err.code === codes.badCredentials) {
      return new UserInputError('STORE_AUTH', `${prefix}: Cassandra rejected the credentials (${msg})`, {
        cause: err,
      });
    }
    if (err.code === codes.unauthorized) {
      return new UserInputError('STORE_FORBIDDEN', `${prefix}: not allowed (${msg})`, { cause: err });
    }
    if (/keyspace .* does not exist/i.test(msg)) {
      return new UserInputError('KEYSPACE_NOT_FOUND', `keyspace ${ks} does not exist`, { cause: err });
    }
    if (/unconfigured table|table .* does not exist/i.test(msg)) {
      return new PlexusError('TABLE_NOT_FOUND', `${prefix}: ${msg}`, { cause: err });
    }
  }
  if (err instanceof Error && /ECONNREFUSED|ECONNRESET|socket|closed/i.test(msg)) {
    return new TransientError('STORE_UNAVAILABLE', `${prefix}: ${msg}`, { cause: err });
  }
  return new PlexusError('STORE_ERROR', `${prefix}: ${msg}`, { cause: err });
}

/** A lightweight transaction whose outcome is unknown (a CAS write timed out): it may be retried. */
export function isCasTimeout(err: unknown): boolean {
  if (err instanceof cassandra.errors.ResponseError) {
    return err.code === codes.writeTimeout || err.code === codes.unavailableException;
  }
  return err instanceof cassandra.errors.OperationTimedOutError;
}
