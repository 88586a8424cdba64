/**
 * Typed errors. Every error a client can see says whether the operation *definitely did not
 * happen* (`definite: true`: safe to retry anywhere) or *may have happened* (`definite: false`:
 * the outcome is unknown, as with a timeout after the request was sent). This is Jepsen
 * Maelstrom's distinction; when in doubt, an error is indefinite.
 */

export type ErrorCode =
  | 'timeout' // indefinite: no answer in time
  | 'crash' // indefinite: the node went away mid-request
  | 'not-leader' // definite: this node cannot serve; try the leader
  | 'no-leader' // definite: no leader known; try again later
  | 'unavailable' // definite: the service refused before doing anything
  | 'overloaded' // definite: a queue or limit is full
  | 'invalid-argument' // definite: the request was malformed
  | 'not-found' // definite
  | 'precondition-failed' // definite: compare/CAS did not hold
  | 'conflict' // definite
  | 'config' // definite: bad configuration or flags
  | 'corruption' // definite: data on disk failed its checksum
  | 'removed' // definite: this node was removed from the cluster
  | 'closed'; // definite: the object was closed

export class ClusterkitError extends Error {
  override name = 'ClusterkitError';
  readonly code: ErrorCode;
  /** True: the operation definitely did not take effect. False: it may have. */
  readonly definite: boolean;
  constructor(code: ErrorCode, message: string, definite: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.definite = definite;
  }
}

/** The operation definitely did not happen. */
export class DefiniteError extends ClusterkitError {
  override name = 'DefiniteError';
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, true, options);
  }
}

/** The operation may or may not have happened. */
export class IndefiniteError extends ClusterkitError {
  override name = 'IndefiniteError';
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, false, options);
  }
}

/** Bad configuration, flags or arguments supplied by a user. */
export class ConfigError extends DefiniteError {
  override name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', message, options);
  }
}

/** Malformed request from a client or peer. */
export class InvalidArgumentError extends DefiniteError {
  override name = 'InvalidArgumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid-argument', message, options);
  }
}

/** Data on disk failed validation. Names the file and byte offset. */
export class CorruptionError extends DefiniteError {
  override name = 'CorruptionError';
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, detail: string) {
    super('corruption', `corrupt data in ${file} at offset ${offset}: ${detail}`);
    this.file = file;
    this.offset = offset;
  }
}

export class TimeoutError extends IndefiniteError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super('timeout', message);
  }
}

export function isDefinite(err: unknown): boolean {
  return err instanceof ClusterkitError && err.definite;
}
