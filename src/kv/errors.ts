/**
 * Errors of the KV state machine. Inside `apply` every error a client can cause becomes a
 * deterministic `{ ok: false, error }` result (so all replicas agree and none crashes); callers
 * that prefer exceptions use `unwrap`, which throws `InvalidArgumentError` for malformed requests
 * and `KvError` for the rest. All of them are definite: the command did not take effect.
 */
import { DefiniteError, type ErrorCode, InvalidArgumentError } from '../core/errors.ts';
import { unreachable } from '../core/assert.ts';
import type { KvErrorCode, KvResponse, KvResult } from './types.ts';

function coreCode(code: KvErrorCode): ErrorCode {
  switch (code) {
    case 'invalid-argument':
    case 'duplicate-key':
    case 'future-revision':
      return 'invalid-argument';
    case 'key-not-found':
    case 'lease-not-found':
    case 'compacted':
      return 'not-found';
    case 'lease-exists':
    case 'stale-request':
      return 'conflict';
    case 'quota-exceeded':
      return 'overloaded';
    default:
      return unreachable(code, 'kv error code');
  }
}

export class KvError extends DefiniteError {
  override name = 'KvError';
  readonly kvCode: KvErrorCode;
  constructor(kvCode: KvErrorCode, message: string) {
    super(coreCode(kvCode), message);
    this.kvCode = kvCode;
  }
}

/** The response of an ok result; throws the error of a failed one. */
export function unwrap(result: KvResult): KvResponse {
  if (result.ok) return result.response;
  if (result.error.code === 'invalid-argument') throw new InvalidArgumentError(result.error.message);
  throw new KvError(result.error.code, result.error.message);
}
