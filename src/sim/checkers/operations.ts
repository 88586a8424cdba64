/**
 * Pairs a Jepsen-shaped event history (src/sim/history.ts) into operations: each `invoke` with
 * the next completion of the same process. This is the input the linearizability checker works
 * on, and the place where a malformed history is rejected with a message naming the event.
 *
 * Rules (Jepsen's): a process has at most one operation in flight; a completion must match its
 * invoke's `f` and `key`; an `info` completion leaves the operation open-ended (it may have taken
 * effect at any time after its invoke, or never); an invoke with no completion by the end of the
 * history is treated the same way (`pending`). A process may invoke again after an `info`
 * (Jepsen would use a fresh process id; accepting both costs nothing).
 *
 * Leaves out: the order of events is the order of the array (file order); `time` is carried for
 * reports but not used to reorder events.
 */
import { InvalidArgumentError } from '../../core/errors.ts';
import type { HistoryEvent, KvValue, OpFunction } from '../history.ts';

export type OperationStatus = 'ok' | 'fail' | 'info' | 'pending';

export interface KvOperation {
  /** Position in the array returned by `pairOperations`. */
  readonly id: number;
  readonly process: number;
  readonly f: OpFunction;
  readonly key: string;
  /** write: the value written; cas: [from, to]; read: the value read (ok reads), else null. */
  readonly value: KvValue | readonly [KvValue, KvValue];
  readonly status: OperationStatus;
  /** Index of the invoke event in the history. */
  readonly invokeIndex: number;
  /** Index of the completion event, or -1 when pending. */
  readonly completeIndex: number;
  /** Nanoseconds, as recorded. */
  readonly invokeTime: number;
  /** Nanoseconds, or -1 when pending. */
  readonly completeTime: number;
}

/** Thrown for a history that is malformed; `line` is 1-based when known (else the event index + 1). */
export class HistoryFormatError extends InvalidArgumentError {
  override name = 'HistoryFormatError';
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

export function isKvValue(v: unknown): v is KvValue {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

export function isCasValue(v: unknown): v is [KvValue, KvValue] {
  return Array.isArray(v) && v.length === 2 && isKvValue(v[0]) && isKvValue(v[1]);
}

/** A short human form of an operation, e.g. `p3 write k=5 ok`. */
export function describeOperation(op: KvOperation): string {
  const v = op.f === 'cas' ? `[${fmt((op.value as readonly KvValue[])[0] ?? null)}→${fmt((op.value as readonly KvValue[])[1] ?? null)}]` : fmt(op.value as KvValue);
  const sym = op.f === 'read' ? `read ${op.key}→${op.status === 'ok' ? v : '?'}` : `${op.f} ${op.key} ${v}`;
  return `p${op.process} ${sym} ${op.status}`;
}

function fmt(v: KvValue): string {
  return JSON.stringify(v);
}

/**
 * Pairs invokes with completions. `lineOf(i)` maps an event index to the line reported in
 * errors (defaults to i + 1).
 */
export function pairOperations(history: readonly HistoryEvent[], lineOf: (eventIndex: number) => number = (i) => i + 1): KvOperation[] {
  interface Open {
    invokeIndex: number;
    event: HistoryEvent;
  }
  const open = new Map<number, Open>();
  const ops: KvOperation[] = [];
  // Operations are numbered by invoke order; completions fill them in.
  const slots: (KvOperation | Open)[] = [];
  const slotOf = new Map<number, number>(); // invokeIndex -> slot
  for (let i = 0; i < history.length; i++) {
    const e = history[i] as HistoryEvent;
    if (e.type === 'invoke') {
      const prior = open.get(e.process);
      if (prior !== undefined) {
        throw new HistoryFormatError(lineOf(i), `process ${e.process} invoked ${e.f} while its ${prior.event.f} from line ${lineOf(prior.invokeIndex)} has not completed`);
      }
      if (e.f === 'write' && !isKvValue(e.value)) throw new HistoryFormatError(lineOf(i), 'a write needs a value that is a number, a string or null');
      if (e.f === 'cas' && !isCasValue(e.value)) throw new HistoryFormatError(lineOf(i), 'a cas needs a value [from, to]');
      const o = { invokeIndex: i, event: e };
      open.set(e.process, o);
      slotOf.set(i, slots.length);
      slots.push(o);
      continue;
    }
    const inv = open.get(e.process);
    if (inv === undefined) throw new HistoryFormatError(lineOf(i), `process ${e.process} completed (${e.type}) an operation it never invoked`);
    if (inv.event.f !== e.f) throw new HistoryFormatError(lineOf(i), `completion f=${e.f} does not match the invoke f=${inv.event.f} on line ${lineOf(inv.invokeIndex)}`);
    if (inv.event.key !== e.key) throw new HistoryFormatError(lineOf(i), `completion key ${JSON.stringify(e.key)} does not match the invoke key ${JSON.stringify(inv.event.key)} on line ${lineOf(inv.invokeIndex)}`);
    open.delete(e.process);
    let value: KvValue | readonly [KvValue, KvValue] = inv.event.value;
    if (e.f === 'read') {
      if (e.type === 'ok') {
        if (!isKvValue(e.value)) throw new HistoryFormatError(lineOf(i), 'a read ok needs the value read (a number, a string or null)');
        value = e.value;
      } else {
        value = null;
      }
    }
    const slot = slotOf.get(inv.invokeIndex) as number;
    slots[slot] = {
      id: slot,
      process: e.process,
      f: e.f,
      key: e.key,
      value,
      status: e.type,
      invokeIndex: inv.invokeIndex,
      completeIndex: i,
      invokeTime: inv.event.time,
      completeTime: e.time,
    };
  }
  for (let s = 0; s < slots.length; s++) {
    const x = slots[s] as KvOperation | Open;
    if ('id' in x) {
      ops.push(x);
    } else {
      const e = x.event;
      ops.push({
        id: s,
        process: e.process,
        f: e.f,
        key: e.key,
        value: e.f === 'read' ? null : e.value,
        status: 'pending',
        invokeIndex: x.invokeIndex,
        completeIndex: -1,
        invokeTime: e.time,
        completeTime: -1,
      });
    }
  }
  return ops;
}
