/**
 * `clusterkit check linearizable FILE.jsonl`: checks a recorded key-value history (JSON lines,
 * see src/sim/history.ts) for linearizability with the Wing–Gong/Lowe checker.
 * Exit codes: 0 linearizable, 1 not linearizable, 2 malformed input or bad flags,
 * 3 undecided (the search budget ran out).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkOperations, LINEARIZABILITY_DEFAULTS, type LinearizabilityResult } from '../../sim/checkers/linearizability.ts';
import { describeOperation, type KvOperation, pairOperations } from '../../sim/checkers/operations.ts';
import { historyFromJsonLines } from '../../sim/history-parse.ts';
import { intFlag, printJson, table, UsageError } from '../util.ts';

interface LinearizableFlags {
  json?: boolean;
  stepsMax: number;
  prefixShown: number;
  all?: boolean;
}

export function registerCheck(program: Command): void {
  const check = program.command('check').description('Check recorded histories against consistency models');
  check
    .command('linearizable')
    .description('Check a JSON-lines key-value history (read/write/cas per key) for linearizability; exit 0 yes, 1 no, 2 malformed, 3 undecided')
    .argument('<file>', 'history file ("-" for standard input), one event per line: {"process":N,"type":"invoke|ok|fail|info","f":"read|write|cas","key":"k","value":V,"time":NS}')
    .option('--json', 'print the result as JSON')
    .option('--steps-max <n>', 'search steps per key before giving up (exit 3)', intFlag('--steps-max', { min: 1 }), LINEARIZABILITY_DEFAULTS.stepsMaxPerKey)
    .option('--prefix-shown <n>', 'operations of the linearizable prefix to print before the failure', intFlag('--prefix-shown', { min: 0, max: 1_000_000 }), 8)
    .option('--all', 'check every key even after one fails')
    .action((file: string, flags: LinearizableFlags) => {
      process.exitCode = runLinearizable(file, flags);
    });
}

function runLinearizable(file: string, flags: LinearizableFlags): number {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read history file ${JSON.stringify(file)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const started = performance.now();
  const events = historyFromJsonLines(text);
  // Line numbers for reports: the n-th non-blank line.
  const lineOfEvent: number[] = [];
  text.split('\n').forEach((row, i) => {
    if (row.trim() !== '') lineOfEvent.push(i + 1);
  });
  const ops = pairOperations(events);
  const result = checkOperations(ops, { stepsMaxPerKey: flags.stepsMax, stopAtFirstFailure: !flags.all });
  const elapsedMs = performance.now() - started;
  const code = result.outcome === 'linearizable' ? 0 : result.outcome === 'not-linearizable' ? 1 : 3;
  if (flags.json) {
    printJson({ file, events: events.length, elapsedMs: Math.round(elapsedMs * 10) / 10, ...jsonResult(result, lineOfEvent) });
    return code;
  }
  const counts = { ok: 0, fail: 0, info: 0, pending: 0 };
  for (const op of ops) counts[op.status]++;
  const out: string[] = [];
  out.push(`${file}: ${events.length} events, ${ops.length} operations (${counts.ok} ok, ${counts.fail} fail, ${counts.info} info, ${counts.pending} pending), ${result.keys.length} keys`);
  out.push(
    table(
      ['key', 'ops', 'ok', 'indeterminate', 'dropped', 'result', 'steps', 'ms'],
      result.keys.map((k) => [k.key, k.opsChecked, k.opsOk, k.opsIndeterminate, k.opsDropped, k.outcome, k.steps, Math.round(k.elapsedMs * 10) / 10]),
    ),
  );
  switch (result.outcome) {
    case 'linearizable':
      out.push(`LINEARIZABLE (checked in ${elapsedMs.toFixed(1)} ms)`);
      break;
    case 'not-linearizable': {
      const f = result.failure;
      out.push(`NOT LINEARIZABLE: key ${JSON.stringify(f.key)}`);
      const shown = flags.prefixShown === 0 ? [] : f.prefix.slice(-flags.prefixShown);
      out.push(`longest linearizable prefix: ${f.prefix.length} operations${shown.length < f.prefix.length ? ` (last ${shown.length} shown)` : ''}`);
      for (const op of shown) out.push(`  ${opLine(op, lineOfEvent)}`);
      out.push(`register after the prefix: ${JSON.stringify(f.stateAfterPrefix)}`);
      out.push(`could not place: ${opLine(f.unplaceable, lineOfEvent)}`);
      out.push(`why: ${f.reason}`);
      break;
    }
    case 'unknown':
      out.push(`UNKNOWN: ${result.detail} (raise --steps-max)`);
      break;
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return code;
}

function opLine(op: KvOperation, lineOfEvent: readonly number[]): string {
  const inv = lineOfEvent[op.invokeIndex] ?? op.invokeIndex + 1;
  const done = op.completeIndex >= 0 ? `-${lineOfEvent[op.completeIndex] ?? op.completeIndex + 1}` : '-end';
  return `${describeOperation(op)}  (lines ${inv}${done})`;
}

function jsonOp(op: KvOperation, lineOfEvent: readonly number[]) {
  return {
    process: op.process,
    f: op.f,
    key: op.key,
    value: op.value,
    status: op.status,
    invokeLine: lineOfEvent[op.invokeIndex] ?? null,
    completeLine: op.completeIndex >= 0 ? (lineOfEvent[op.completeIndex] ?? null) : null,
  };
}

function jsonResult(result: LinearizabilityResult, lineOfEvent: readonly number[]) {
  const base = { outcome: result.outcome, operations: result.opsTotal, keys: result.keys };
  switch (result.outcome) {
    case 'linearizable':
      return base;
    case 'not-linearizable': {
      const f = result.failure;
      return {
        ...base,
        failure: {
          key: f.key,
          prefixLength: f.prefix.length,
          prefix: f.prefix.map((op) => jsonOp(op, lineOfEvent)),
          stateAfterPrefix: f.stateAfterPrefix,
          unplaceable: jsonOp(f.unplaceable, lineOfEvent),
          reason: f.reason,
        },
      };
    }
    case 'unknown':
      return { ...base, unknownKeys: result.unknownKeys, detail: result.detail };
  }
}
