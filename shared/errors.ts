/**
 * The one error type. `code` is stable (clients and tests rely on it), `status` is the HTTP status,
 * `expected` says whether it is a normal outcome (bad input) or something an operator should look at.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expected: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    options: { expected?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.expected = options.expected ?? status < 500;
    this.details = options.details;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Errors of the MongoDB driver that mean "the database cannot be reached", not "the query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name ?? '';
  return /^Mongo(NetworkError|NetworkTimeoutError|ServerSelectionError|NotConnectedError|TopologyClosedError)$/.test(name)
    || /client must be connected|Topology is closed|connection .* closed/i.test((error as Error | null)?.message ?? '');
}

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('database_unavailable', 503, 'The database is not reachable right now. Please try again in a few minutes.', {
    expected: false,
    cause,
  });
}

export function storageUnavailable(cause: unknown): AppError {
  return new AppError('storage_unavailable', 503, 'The file store is not reachable right now. Please try again in a few minutes.', {
    expected: false,
    cause,
  });
}

export function queueUnavailable(cause: unknown): AppError {
  return new AppError('queue_unavailable', 503, 'The processing queue is not reachable right now. Please try again in a few minutes.', {
    expected: false,
    cause,
  });
}

/** The database refused an insert or update because a unique index already holds the value (MongoDB and FerretDB: code 11000). */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number } | null)?.code === 11000;
}
