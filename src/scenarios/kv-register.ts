/**
 * The state machine of the replicated KV registers in the simulator (Raft, Paxos): read, write
 * and cas on a map of keys, with per-client de-duplication so a command applied twice (a client
 * retry, a duplicated message, a re-proposal after a leader change) takes effect once. Every
 * replica applies the same committed commands in the same order and reaches the same state.
 */
import type { NodeId } from '../core/ids.ts';
import type { KvValue } from '../sim/history.ts';
import type { KvOp, KvOutcome } from '../sim/workload.ts';

/** One client command: client `c`, its request number `i`, the operation. */
export interface RegisterCommand {
  c: NodeId;
  i: number;
  op: KvOp;
}

export interface RegisterState {
  data: Record<string, KvValue>;
  /** Highest request number applied per client, and its outcome (for retries). */
  lastId: Record<NodeId, number>;
  lastResult: Record<NodeId, KvOutcome>;
}

export function emptyRegisterState(): RegisterState {
  return { data: {}, lastId: {}, lastResult: {} };
}

/** Applies a committed write or cas (reads are served by ReadIndex / read barriers). */
export function applyRegisterCommand(state: RegisterState, cmd: RegisterCommand): KvOutcome {
  const last = state.lastId[cmd.c] ?? 0;
  if (last > cmd.i) return { type: 'info', error: 'superseded request' };
  if (last === cmd.i) return state.lastResult[cmd.c] ?? { type: 'info', error: 'duplicate request' };
  let outcome: KvOutcome;
  const current = state.data[cmd.op.key] ?? null;
  if (cmd.op.f === 'write') {
    state.data[cmd.op.key] = cmd.op.value as KvValue;
    outcome = { type: 'ok' };
  } else {
    const [from, to] = cmd.op.value as [KvValue, KvValue];
    if (current === from) {
      state.data[cmd.op.key] = to;
      outcome = { type: 'ok' };
    } else {
      outcome = { type: 'fail', error: `cas: expected ${JSON.stringify(from)}, found ${JSON.stringify(current)}` };
    }
  }
  state.lastId[cmd.c] = cmd.i;
  state.lastResult[cmd.c] = outcome;
  return outcome;
}
