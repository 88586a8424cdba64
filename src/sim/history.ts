/**
 * Client histories in Jepsen's shape: every operation is an `invoke` event followed by exactly
 * one completion: `ok` (it happened, with the result), `fail` (it definitely did not happen) or
 * `info` (unknown: it may have happened, at any time after its invoke).
 *
 * JSON-lines form, one event per line:
 *   {"process":N,"type":"invoke"|"ok"|"fail"|"info","f":"read"|"write"|"cas","key":"k","value":V,"time":NS}
 * For cas, value is [from, to]; for a read's invoke, value is null and its ok carries what was read
 * (null when the key was absent). `time` is in nanoseconds (virtual time in the simulator).
 */

export type KvValue = number | string | null;
export type OpFunction = 'read' | 'write' | 'cas';
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';

export interface HistoryEvent {
  process: number;
  type: EventType;
  f: OpFunction;
  key: string;
  /** write: the value written; cas: [from, to]; read invoke: null; read ok: the value read. */
  value: KvValue | [KvValue, KvValue];
  /** Nanoseconds. */
  time: number;
  /** Optional error text for fail/info. Not part of the checked semantics. */
  error?: string;
}

export type History = HistoryEvent[];

/** Serializes a history as JSON lines (one event per line, trailing newline). */
export function historyToJsonLines(history: readonly HistoryEvent[]): string {
  let out = '';
  for (const e of history) {
    const line: Record<string, unknown> = {
      process: e.process,
      type: e.type,
      f: e.f,
      key: e.key,
      value: e.value,
      time: e.time,
    };
    if (e.error !== undefined) line.error = e.error;
    out += `${JSON.stringify(line)}\n`;
  }
  return out;
}
