/**
 * The simulator host's acceptor log: CRC-framed records replayed at restart, a torn or corrupt
 * tail truncated (durably), and the checker's durable-promise rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PaxosReady } from '../../../src/consensus/paxos/multi.ts';
import { PAXOS_LOG_FILE, PaxosChecker, paxosLogRecord, recoverPaxosLog } from '../../../src/scenarios/paxos-kv.ts';
import { runPaxos } from '../../../src/scenarios/paxos-scenario.ts';
import { DEFAULT_DISK_CONFIG, SimDiskImpl } from '../../../src/sim/disk.ts';
import { ALL_FAULTS } from '../../../src/sim/nemesis.ts';

function ready(partial: Partial<PaxosReady['persist']>): PaxosReady {
  return {
    persist: { promised: undefined, accepted: [], chosen: [], ...partial },
    mustSync: true,
    messages: [],
    afterSync: [],
    committed: [],
    reads: [],
    dropped: [],
  };
}

describe('paxos acceptor log', () => {
  it('replays promise, accepted and chosen records; a torn tail is cut off and the cut synced', () => {
    const disk = new SimDiskImpl({ ...DEFAULT_DISK_CONFIG });
    const b1 = { round: 1, node: 'n1' };
    const b2 = { round: 2, node: 'n2' };
    disk.append(PAXOS_LOG_FILE, paxosLogRecord(ready({ promised: b1, accepted: [{ slot: 1, ballot: b1, value: { kind: 'cmds', cmds: ['a'] } }] })) as Uint8Array);
    disk.append(PAXOS_LOG_FILE, paxosLogRecord(ready({ promised: b2, chosen: [{ slot: 1, value: { kind: 'cmds', cmds: ['a'] } }] })) as Uint8Array);
    const third = paxosLogRecord(ready({ accepted: [{ slot: 2, ballot: b2, value: { kind: 'noop' } }] })) as Uint8Array;
    disk.append(PAXOS_LOG_FILE, third.subarray(0, third.length - 3)); // torn: a prefix of the record
    const before = disk.read(PAXOS_LOG_FILE)?.length ?? 0;
    const rec = recoverPaxosLog(disk);
    assert.equal(rec.records, 2);
    assert.equal(rec.truncatedBytes, third.length - 3);
    assert.deepEqual(rec.state.promised, b2);
    assert.deepEqual(rec.state.accepted.get(1), { ballot: b1, value: { kind: 'cmds', cmds: ['a'] } });
    assert.equal(rec.state.accepted.has(2), false);
    assert.deepEqual(rec.state.chosen.get(1), { kind: 'cmds', cmds: ['a'] });
    assert.equal(disk.readDurable(PAXOS_LOG_FILE)?.length, before - (third.length - 3), 'the truncation itself is durable');
  });

  it('a flipped byte fails the checksum and ends the replay there', () => {
    const disk = new SimDiskImpl({ ...DEFAULT_DISK_CONFIG });
    disk.append(PAXOS_LOG_FILE, paxosLogRecord(ready({ promised: { round: 1, node: 'n1' } })) as Uint8Array);
    disk.append(PAXOS_LOG_FILE, paxosLogRecord(ready({ promised: { round: 5, node: 'n1' } })) as Uint8Array);
    disk.fsyncAll();
    const len = disk.read(PAXOS_LOG_FILE)?.length ?? 0;
    disk.corrupt(PAXOS_LOG_FILE, len - 2);
    const rec = recoverPaxosLog(disk);
    assert.equal(rec.records, 1);
    assert.deepEqual(rec.state.promised, { round: 1, node: 'n1' });
  });

  it('the checker flags an accept below a promise already sent, and a promise lost at restart', () => {
    const c = new PaxosChecker(2);
    c.onSent('n1', { type: 'promise', ballot: { round: 3, node: 'n2' }, accepted: [] });
    c.onDurable('n1', undefined, [{ slot: 1, ballot: { round: 2, node: 'n3' }, value: { kind: 'noop' } }]);
    assert.match(c.violation ?? '', /accepted ballot 2\.n3 in slot 1 below a promise it had made \(3\.n2\)/);
    const d = new PaxosChecker(2);
    d.onSent('n1', { type: 'accepted', ballot: { round: 4, node: 'n2' }, slots: [1] });
    d.onRecovered('n1', { round: 1, node: 'n1' }, []);
    assert.match(d.violation ?? '', /a promise was lost/);
  });

  it('the checker flags two values chosen in one slot from durable votes', () => {
    const c = new PaxosChecker(2);
    const b1 = { round: 1, node: 'n1' };
    const b2 = { round: 2, node: 'n2' };
    c.onDurable('n1', undefined, [{ slot: 1, ballot: b1, value: { kind: 'cmds', cmds: ['x'] } }]);
    c.onDurable('n2', undefined, [{ slot: 1, ballot: b1, value: { kind: 'cmds', cmds: ['x'] } }]);
    assert.equal(c.violation, undefined);
    c.onDurable('n2', undefined, [{ slot: 1, ballot: b2, value: { kind: 'cmds', cmds: ['y'] } }]);
    c.onDurable('n3', undefined, [{ slot: 1, ballot: b2, value: { kind: 'cmds', cmds: ['y'] } }]);
    assert.match(c.violation ?? '', /two values chosen in slot 1/);
  });

  it('crashes in the simulation exercise recovery: torn tails are truncated in some seeds', () => {
    let truncated = 0;
    let recovered = 0;
    for (let seed = 1; seed <= 30 && truncated === 0; seed++) {
      const run = runPaxos({ seed, nodes: 3, durationMs: 1500, ops: 60, faults: [...ALL_FAULTS], params: {} });
      for (const id of run.servers) {
        truncated += run.server(id)?.stats.truncatedBytes ?? 0;
        recovered += run.server(id)?.stats.recoveredRecords ?? 0;
      }
    }
    assert.ok(recovered > 0, 'restarted replicas replayed their log');
    assert.ok(truncated > 0, 'some restart found a torn or corrupt tail');
  });
});
