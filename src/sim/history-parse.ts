/**
 * Reads a history from JSON lines (the form `historyToJsonLines` writes, see history.ts): one
 * event per line, blank lines ignored, unknown fields ignored (Jepsen histories carry extras such
 * as `index`). Every error names the 1-based line and what was wrong, and is a
 * `HistoryFormatError` (an InvalidArgumentError: the CLI exits with code 2).
 *
 * Besides each line's shape, the pairing of invokes and completions is validated (one operation
 * in flight per process, completions matching their invoke's f and key), so a history that parses
 * can be checked.
 *
 * Leaves out: Jepsen's EDN format.
 */
import { HistoryFormatError, isCasValue, isKvValue, pairOperations } from './checkers/operations.ts';
import type { EventType, HistoryEvent, KvValue, OpFunction } from './history.ts';

const EVENT_TYPES: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];
const FUNCTIONS: readonly OpFunction[] = ['read', 'write', 'cas'];

/** Parses and validates a JSON-lines history. Throws HistoryFormatError naming the line. */
export function historyFromJsonLines(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines: number[] = [];
  const rows = text.split('\n');
  for (let r = 0; r < rows.length; r++) {
    const raw = (rows[r] as string).trim();
    if (raw === '') continue;
    const lineNo = r + 1;
    events.push(parseEventLine(raw, lineNo));
    lines.push(lineNo);
  }
  pairOperations(events, (i) => lines[i] ?? i + 1);
  return events;
}

/** Parses one line into an event. */
export function parseEventLine(raw: string, lineNo: number): HistoryEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new HistoryFormatError(lineNo, `invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HistoryFormatError(lineNo, 'expected a JSON object like {"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":0}');
  }
  const o = parsed as Record<string, unknown>;
  const process = o.process;
  if (typeof process !== 'number' || !Number.isSafeInteger(process) || process < 0) {
    throw new HistoryFormatError(lineNo, `"process" must be a non-negative integer, got ${JSON.stringify(process)}`);
  }
  const type = o.type;
  if (typeof type !== 'string' || !EVENT_TYPES.includes(type as EventType)) {
    throw new HistoryFormatError(lineNo, `"type" must be one of ${EVENT_TYPES.join(', ')}; got ${JSON.stringify(type)}`);
  }
  const f = o.f;
  if (typeof f !== 'string' || !FUNCTIONS.includes(f as OpFunction)) {
    throw new HistoryFormatError(lineNo, `"f" must be one of ${FUNCTIONS.join(', ')}; got ${JSON.stringify(f)}`);
  }
  const key = o.key;
  if (typeof key !== 'string') throw new HistoryFormatError(lineNo, `"key" must be a string, got ${JSON.stringify(key)}`);
  const time = o.time;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
    throw new HistoryFormatError(lineNo, `"time" must be a non-negative number of nanoseconds, got ${JSON.stringify(time)}`);
  }
  if (!('value' in o)) throw new HistoryFormatError(lineNo, '"value" is missing (use null when there is none)');
  const value = o.value;
  let v: KvValue | [KvValue, KvValue];
  if (f === 'cas') {
    // A cas completion may repeat [from, to] or carry null.
    if (isCasValue(value)) v = [value[0], value[1]];
    else if (type !== 'invoke' && value === null) v = null;
    else throw new HistoryFormatError(lineNo, `a cas value must be [from, to] with numbers, strings or null; got ${JSON.stringify(value)}`);
  } else {
    if (!isKvValue(value)) throw new HistoryFormatError(lineNo, `a ${f} value must be a number, a string or null; got ${JSON.stringify(value)}`);
    v = value;
  }
  const event: HistoryEvent = { process, type: type as EventType, f: f as OpFunction, key, value: v, time };
  if (o.error !== undefined) {
    if (typeof o.error !== 'string') throw new HistoryFormatError(lineNo, `"error" must be a string when present, got ${JSON.stringify(o.error)}`);
    event.error = o.error;
  }
  return event;
}
