/**
 * Generates Jepsen-shaped histories from a correct in-memory register per key, with random
 * overlapping timing: each client runs one operation at a time; every operation takes effect at
 * a linearization point strictly between its invoke and its completion, in the order of those
 * points. The result is linearizable by construction, which is what the checker's tests and
 * benchmark need; `corruptRead` then breaks it on purpose.
 *
 * Written values are unique per history (a counter), as in Jepsen's register workloads, unless
 * `valuesMax` asks for a small domain (repeated values make the search harder). A cas
 * picks `from` as the value the client last saw (often stale, so some cas fail). With
 * `infoProbability`, a write or cas completes as `info`: it took effect or not (coin flip) and
 * its client moves on under a fresh process id, as Jepsen does.
 *
 * Leaves out: network and node faults (the simulator's job); this is a checker workload only.
 */
import { assert } from '../../core/assert.ts';
import { createRng } from '../../core/rng.ts';
import type { HistoryEvent, KvValue, OpFunction } from '../history.ts';

export interface RegisterWorkloadOptions {
  seed: number;
  opsCount: number;
  keysCount: number;
  clientsCount: number;
  /** Share of reads / writes / cas (normalized). Default 0.5 / 0.3 / 0.2. */
  mix?: { read: number; write: number; cas: number };
  /** Probability that a write or cas completes as `info` (default 0). */
  infoProbability?: number;
  /** Mean think time between a client's operations, ns (default 1000). */
  thinkNsMean?: number;
  /** Mean latency from invoke to linearization point and from there to completion, ns (default 3000). */
  latencyNsMean?: number;
  /** Draw written values from 1..valuesMax instead of a unique counter (harder to check). */
  valuesMax?: number;
}

interface PlannedOp {
  process: number;
  f: OpFunction;
  key: string;
  invokeNs: number;
  pointNs: number;
  completeNs: number;
  /** write: value; cas: [from, to] */
  arg: KvValue | [KvValue, KvValue];
  info: boolean;
  /** For info: whether it took effect. */
  applies: boolean;
  seq: number;
  result?: { type: 'ok' | 'fail' | 'info'; value: KvValue | [KvValue, KvValue] };
}

/** A linearizable history of `opsCount` operations. */
export function generateRegisterHistory(options: RegisterWorkloadOptions): HistoryEvent[] {
  const { seed, opsCount, keysCount, clientsCount } = options;
  assert(Number.isSafeInteger(opsCount) && opsCount >= 0, 'opsCount must be a non-negative integer');
  assert(Number.isSafeInteger(keysCount) && keysCount >= 1, 'keysCount must be >= 1');
  assert(Number.isSafeInteger(clientsCount) && clientsCount >= 1, 'clientsCount must be >= 1');
  const mix = options.mix ?? { read: 0.5, write: 0.3, cas: 0.2 };
  const total = mix.read + mix.write + mix.cas;
  assert(total > 0, 'mix must have a positive weight');
  const infoP = options.infoProbability ?? 0;
  const thinkMean = options.thinkNsMean ?? 1000;
  const latencyMean = options.latencyNsMean ?? 3000;
  const rng = createRng(seed);
  const keys = Array.from({ length: keysCount }, (_, i) => `k${i}`);
  const clock = new Array<number>(clientsCount).fill(0);
  const processOf = Array.from({ length: clientsCount }, (_, i) => i);
  const lastSeen = new Map<string, KvValue>();
  let nextProcess = clientsCount;
  let nextValue = 1;
  const valuesMax = options.valuesMax;
  const newValue = (): number => (valuesMax === undefined ? nextValue++ : 1 + rng.int(valuesMax));
  const planned: PlannedOp[] = [];
  for (let n = 0; n < opsCount; n++) {
    // Round-robin over the client with the earliest clock keeps clients interleaved.
    let c = 0;
    for (let i = 1; i < clientsCount; i++) if ((clock[i] as number) < (clock[c] as number)) c = i;
    const invokeNs = (clock[c] as number) + 1 + Math.floor(rng.exponential(thinkMean));
    const pointNs = invokeNs + 1 + Math.floor(rng.exponential(latencyMean));
    const completeNs = pointNs + 1 + Math.floor(rng.exponential(latencyMean));
    const key = rng.pick(keys);
    const x = rng.float() * total;
    const f: OpFunction = x < mix.read ? 'read' : x < mix.read + mix.write ? 'write' : 'cas';
    let arg: KvValue | [KvValue, KvValue] = null;
    if (f === 'write') arg = newValue();
    if (f === 'cas') arg = [lastSeen.get(`${c}/${key}`) ?? null, newValue()];
    const info = f !== 'read' && rng.chance(infoP);
    const applies = info ? rng.chance(0.5) : true;
    planned.push({ process: processOf[c] as number, f, key, invokeNs, pointNs, completeNs, arg, info, applies, seq: n });
    clock[c] = completeNs;
    if (info) processOf[c] = nextProcess++;
    // What the client "saw" is only known after the simulation below; approximate with the
    // last value it wrote, which is enough to make some cas succeed.
    if (f === 'write') lastSeen.set(`${c}/${key}`, arg as KvValue);
    if (f === 'cas') lastSeen.set(`${c}/${key}`, (arg as [KvValue, KvValue])[1]);
  }
  // Apply effects in linearization-point order.
  const byPoint = planned.slice().sort((a, b) => a.pointNs - b.pointNs || a.seq - b.seq);
  const register = new Map<string, KvValue>();
  for (const op of byPoint) {
    const current = register.get(op.key) ?? null;
    switch (op.f) {
      case 'read':
        op.result = { type: 'ok', value: current };
        break;
      case 'write':
        if (op.applies) register.set(op.key, op.arg as KvValue);
        op.result = { type: op.info ? 'info' : 'ok', value: op.arg };
        break;
      case 'cas': {
        const [from, to] = op.arg as [KvValue, KvValue];
        const holds = current === from;
        if (holds && op.applies) register.set(op.key, to);
        op.result = { type: op.info ? 'info' : holds ? 'ok' : 'fail', value: op.arg };
        break;
      }
    }
  }
  const events: { ev: HistoryEvent; order: number }[] = [];
  for (const op of planned) {
    const res = op.result as NonNullable<PlannedOp['result']>;
    events.push({ ev: { process: op.process, type: 'invoke', f: op.f, key: op.key, value: op.f === 'read' ? null : op.arg, time: op.invokeNs }, order: 2 * op.seq });
    events.push({ ev: { process: op.process, type: res.type, f: op.f, key: op.key, value: res.value, time: op.completeNs }, order: 2 * op.seq + 1 });
  }
  events.sort((a, b) => a.ev.time - b.ev.time || a.order - b.order);
  return events.map((e) => e.ev);
}

/**
 * Returns a copy of `history` in which one ok read (chosen by `seed`) returns a value that no
 * write ever wrote, which no linearization can explain. Null when the history has no ok read.
 */
export function corruptRead(history: readonly HistoryEvent[], seed: number): HistoryEvent[] | null {
  const reads: number[] = [];
  history.forEach((e, i) => {
    if (e.type === 'ok' && e.f === 'read') reads.push(i);
  });
  if (reads.length === 0) return null;
  const at = createRng(seed).pick(reads);
  return history.map((e, i) => (i === at ? { ...e, value: -1 } : e));
}
