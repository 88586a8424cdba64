/**
 * Unit tests named after sentences of the Raft paper (Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm", 2014) and Ongaro's thesis (2014). Each test drives
 * in-memory clusters message by message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../../src/core/rng.ts';
import { encodeText, MemoryCluster } from '../../../src/consensus/raft/memory-cluster.ts';
import { Raft, RaftLogLostError } from '../../../src/consensus/raft/raft.ts';
import { MemoryStorage } from '../../../src/consensus/raft/storage.ts';
import type { ConfState, Entry, Message } from '../../../src/consensus/raft/types.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i + 1}`);
const noPreVote = { preVote: false, checkQuorum: false };

function cluster(n: number, config = {}, seed = 1): MemoryCluster {
  return new MemoryCluster(ids(n), config, seed);
}

function propose(c: MemoryCluster, id: string, value: string): void {
  c.node(id).raft.propose(encodeText(value));
}

/** A node whose storage already holds `terms` (entry i+1 has term terms[i]). */
function nodeWithLog(id: string, voters: string[], terms: number[], term: number, config = {}): { raft: Raft; storage: MemoryStorage } {
  const cs: ConfState = { voters, learners: [], votersOutgoing: [], learnersNext: [] };
  const storage = MemoryStorage.bootstrap(cs);
  storage.append(terms.map((t, i): Entry => ({ type: 'normal', term: t, index: i + 1, data: encodeText(`e${i + 1}`) })));
  storage.setHardState({ term, vote: '', commit: 0 });
  return { raft: new Raft({ id, storage, rng: createRng(1).fork(id), config: { ...noPreVote, ...config } }), storage };
}

/** Drains one Ready as a host would: writes entries and hard state, then advances. */
function persist(n: { raft: Raft; storage: MemoryStorage }): Message[] {
  if (!n.raft.hasReady()) return [];
  const rd = n.raft.ready();
  n.storage.append(rd.entries);
  if (rd.hardState) n.storage.setHardState(rd.hardState);
  n.raft.advance(rd);
  return rd.messages.map((m) => m.message);
}

function drainMessages(r: Raft): Message[] {
  if (!r.hasReady()) return [];
  const rd = r.ready();
  r.advance(rd);
  return rd.messages.map((m) => m.message);
}

describe('Raft §5.1 basics', () => {
  it('"If a server receives a request with a stale term number, it rejects the request"', () => {
    const c = cluster(3, noPreVote);
    c.elect('n1');
    c.elect('n2'); // term 2
    const n3 = c.node('n3').raft;
    const before = n3.status();
    n3.step({ type: 'append', from: 'n1', to: 'n3', term: 1, index: 1, logTerm: 1, entries: [], commit: 1 });
    assert.equal(n3.leader, 'n2', 'a stale leader is not recognised');
    assert.equal(n3.term, before.term);
  });

  it('"if one server\'s current term is smaller than the other\'s, then it updates its current term to the larger value"', () => {
    const c = cluster(3, noPreVote);
    c.elect('n1');
    const n2 = c.node('n2').raft;
    n2.step({ type: 'heartbeat', from: 'n3', to: 'n2', term: 7, commit: 0, context: '', sentTick: 0 });
    assert.equal(n2.term, 7);
  });

  it('"If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state"', () => {
    const c = cluster(3, noPreVote);
    c.elect('n1');
    const n1 = c.node('n1').raft;
    assert.equal(n1.role, 'leader');
    n1.step({ type: 'append-response', from: 'n2', to: 'n1', term: 5, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    assert.equal(n1.role, 'follower');
    assert.equal(n1.term, 5);
  });
});

describe('Raft §5.2 leader election', () => {
  it('"A server remains in follower state as long as it receives valid RPCs from a leader"', () => {
    const c = cluster(3, noPreVote);
    c.elect('n1');
    for (let i = 0; i < 100; i++) {
      c.tickAll();
      c.stabilize();
    }
    assert.equal(c.node('n1').raft.role, 'leader');
    assert.equal(c.node('n2').raft.role, 'follower');
    assert.equal(c.node('n1').raft.term, 1);
  });

  it('"To begin an election, a follower increments its current term and transitions to candidate state. It then votes for itself and issues RequestVote RPCs in parallel"', () => {
    const c = cluster(3, noPreVote);
    const n1 = c.node('n1').raft;
    c.tick('n1', 21); // beyond any randomized timeout in [10, 20]
    assert.equal(n1.role, 'candidate');
    assert.equal(n1.term, 1);
    assert.equal(n1.vote, 'n1');
    const votes = drainMessages(n1).filter((m) => m.type === 'vote');
    assert.deepEqual(votes.map((m) => m.to).sort(), ['n2', 'n3']);
  });

  it('"A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term"', () => {
    const cases: [number, Record<string, boolean>, string][] = [
      [3, { n2: true }, 'leader'],
      [3, { n2: false, n3: false }, 'follower'],
      [5, { n2: true }, 'candidate'],
      [5, { n2: true, n3: true }, 'leader'],
      [5, { n2: false, n3: false, n4: false }, 'follower'],
    ];
    for (const [size, votes, want] of cases) {
      const c = cluster(size, noPreVote);
      const r = c.node('n1').raft;
      r.campaign();
      c.process('n1'); // term and self-vote durable
      for (const [from, granted] of Object.entries(votes)) r.step({ type: 'vote-response', from, to: 'n1', term: 1, reject: !granted });
      assert.equal(r.role, want, `${size} servers, votes ${JSON.stringify(votes)}`);
    }
  });

  it('"Each server will vote for at most one candidate in a given term, on a first-come-first-served basis"', () => {
    const c = cluster(3, noPreVote);
    const n3 = c.node('n3').raft;
    n3.step({ type: 'vote', from: 'n1', to: 'n3', term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    n3.step({ type: 'vote', from: 'n2', to: 'n3', term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    const resps = drainMessages(n3).filter((m) => m.type === 'vote-response');
    assert.deepEqual(
      resps.map((m) => [m.to, m.type === 'vote-response' && m.reject]),
      [
        ['n1', false],
        ['n2', true],
      ],
    );
    assert.equal(n3.vote, 'n1');
  });

  it('"If the leader\'s term is at least as large as the candidate\'s current term, then the candidate recognizes the leader as legitimate and returns to follower state"', () => {
    const c = cluster(3, noPreVote);
    const n1 = c.node('n1').raft;
    n1.campaign();
    assert.equal(n1.role, 'candidate');
    n1.step({ type: 'append', from: 'n2', to: 'n1', term: 1, index: 0, logTerm: 0, entries: [], commit: 0 });
    assert.equal(n1.role, 'follower');
    assert.equal(n1.leader, 'n2');
  });

  it('"Raft uses randomized election timeouts": servers draw different timeouts from the injected Rng', () => {
    const c = cluster(5, noPreVote, 42);
    const firstToCampaign: string[] = [];
    for (let t = 0; t < 30 && firstToCampaign.length === 0; t++) {
      for (const id of ids(5)) {
        c.tick(id);
        if (c.node(id).raft.role === 'candidate') firstToCampaign.push(id);
      }
    }
    assert.equal(firstToCampaign.length, 1, 'exactly one server timed out first');
  });

  it('Election Safety: "at most one leader can be elected in a given term" (randomized message loss and timing)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = createRng(seed);
      const c = cluster(5, seed % 2 === 0 ? noPreVote : {}, seed);
      const leaders = new Map<number, string>();
      for (let step = 0; step < 400; step++) {
        c.tick(rng.pick(ids(5)));
        c.processAll();
        c.deliver(
          () => rng.chance(0.7),
          () => rng.chance(0.2),
        );
        for (const n of c.nodes.values()) {
          if (n.raft.role !== 'leader') continue;
          const prev = leaders.get(n.raft.term);
          assert.ok(prev === undefined || prev === n.id, `seed ${seed}: ${prev} and ${n.id} both lead term ${n.raft.term}`);
          leaders.set(n.raft.term, n.id);
        }
      }
      assert.ok(leaders.size > 0, `seed ${seed}: someone was elected`);
    }
  });
});

describe('Thesis §3.8 persisted state: votes requested before the fsync, counted after it', () => {
  it('"a candidate sends RequestVote RPCs in parallel" with its own write: the requests need not wait for the fsync', () => {
    const c = cluster(3, noPreVote);
    const r = c.node('n1').raft;
    r.campaign();
    const rd = r.ready();
    assert.deepEqual(rd.hardState, { term: 1, vote: 'n1', commit: 0 });
    assert.equal(rd.mustSync, true);
    const votes = rd.messages.filter((m) => m.message.type === 'vote');
    assert.equal(votes.length, 2);
    assert.ok(votes.every((m) => !m.afterSync), 'vote requests may leave before the fsync');
    r.advance(rd);
  });

  it('pre-vote requests need no fsync at all', () => {
    const c = cluster(3, { preVote: true, checkQuorum: false });
    const r = c.node('n1').raft;
    r.campaign();
    const rd = r.ready();
    assert.equal(rd.mustSync, false, 'a pre-candidate changes nothing durable');
    const pre = rd.messages.filter((m) => m.message.type === 'pre-vote');
    assert.equal(pre.length, 2);
    assert.ok(pre.every((m) => !m.afterSync));
    r.advance(rd);
  });

  it('"a candidate never becomes leader before its vote is durable", even when a quorum of grants arrives first', () => {
    for (const size of [3, 5]) {
      const c = cluster(size, noPreVote);
      const r = c.node('n1').raft;
      r.campaign();
      const rd = r.ready(); // the host is now writing term 1 + vote n1
      for (const v of ids(size).slice(1)) r.step({ type: 'vote-response', from: v, to: 'n1', term: 1, reject: false });
      assert.equal(r.role, 'candidate', `${size} servers: every other server granted, but the own vote is not durable yet`);
      assert.equal(r.hasReady(), false, 'nothing to do until advance');
      c.node('n1').storage.setHardState(rd.hardState ?? assert.fail('hard state expected'));
      r.advance(rd);
      assert.equal(r.role, 'leader', `${size} servers: leader once the vote is durable`);
    }
  });

  it('a campaign started while an older Ready is being written waits for the Ready that carries its vote', () => {
    const c = cluster(3, noPreVote);
    const r = c.node('n1').raft;
    r.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 1, commit: 0, context: '', sentTick: 0 });
    const old = r.ready(); // term 1, no vote
    r.campaign(); // term 2 between ready() and advance()
    r.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 2, reject: false });
    r.advance(old);
    assert.equal(r.role, 'candidate', 'the advanced Ready held term 1, not the term-2 vote');
    c.process('n1');
    assert.equal(r.role, 'leader');
    assert.equal(r.term, 2);
  });

  it('a candidate that crashes before its vote is durable forgets the term and may vote for another candidate in it', () => {
    const c = cluster(3, noPreVote);
    const n1 = c.node('n1');
    n1.raft.campaign();
    n1.raft.ready(); // written but never fsynced: lost in the crash
    n1.raft.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 1, reject: false });
    assert.equal(n1.raft.role, 'candidate');
    const restarted = new Raft({ id: 'n1', storage: n1.storage, rng: createRng(2).fork('n1'), config: noPreVote });
    assert.equal(restarted.term, 0);
    restarted.step({ type: 'vote', from: 'n3', to: 'n1', term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    const resp = drainMessages(restarted).find((m) => m.type === 'vote-response');
    assert.ok(resp && resp.type === 'vote-response' && !resp.reject, 'n1 never led term 1, so granting n3 is safe');
  });
});

describe('Thesis §3.8: "servers must persist their state before responding"; a server whose disk lost acknowledged entries stops', () => {
  function clusterWithLostTail(): { c: MemoryCluster; kept: number; commit: number } {
    const c = cluster(3, noPreVote);
    c.elect('n1');
    for (const v of ['a', 'b', 'c']) propose(c, 'n1', v);
    c.stabilize();
    const commit = c.node('n1').raft.log.committed;
    assert.equal(c.node('n2').raft.log.lastIndex(), commit, 'n2 acknowledged every entry');
    // n2 restarts from a disk that kept only its first two entries (an fsync that lied).
    const n2 = c.node('n2');
    const storage = MemoryStorage.bootstrap({ voters: ids(3), learners: [], votersOutgoing: [], learnersNext: [] });
    storage.append(n2.storage.allEntries().slice(0, 2));
    storage.setHardState({ term: n2.raft.term, vote: n2.raft.vote, commit: 2 });
    n2.storage = storage;
    n2.raft = new Raft({ id: 'n2', storage, rng: createRng(9).fork('n2'), config: noPreVote });
    return { c, kept: 2, commit };
  }

  it('the leader\'s heartbeat commit beyond the log\'s end is a typed fatal error naming node, commit and last index', () => {
    const { c, kept, commit } = clusterWithLostTail();
    c.tick('n1', c.node('n1').raft.config.heartbeatTicks);
    assert.throws(
      () => c.stabilize(),
      (err: unknown) => {
        assert.ok(err instanceof RaftLogLostError, String(err));
        assert.equal(err.code, 'corruption');
        assert.equal(err.node, 'n2');
        assert.equal(err.leader, 'n1');
        assert.equal(err.commit, commit);
        assert.equal(err.lastIndex, kept);
        assert.match(err.message, /lost entries.*corrupted, truncated, or lost/);
        return true;
      },
    );
    const n2 = c.node('n2').raft;
    assert.throws(() => n2.tick(), RaftLogLostError, 'the core refuses further inputs');
    assert.throws(() => n2.step({ type: 'heartbeat', from: 'n1', to: 'n2', term: n2.term, commit: 1, context: '', sentTick: 0 }), RaftLogLostError);
  });

  it('a heartbeat commit within the log is applied as before (no false alarm)', () => {
    const c = cluster(3, noPreVote);
    c.elect('n1');
    propose(c, 'n1', 'a');
    c.stabilize();
    c.tick('n1', 5);
    c.stabilize();
    assert.equal(c.node('n2').raft.log.committed, c.node('n1').raft.log.committed);
  });

  it('a stored commit index beyond the stored log stops the server at start', () => {
    const storage = MemoryStorage.bootstrap({ voters: ids(3), learners: [], votersOutgoing: [], learnersNext: [] });
    storage.append([{ type: 'normal', term: 1, index: 1, data: encodeText('x') }]);
    storage.setHardState({ term: 1, vote: 'n1', commit: 4 });
    assert.throws(
      () => new Raft({ id: 'n3', storage, rng: createRng(1), config: noPreVote }),
      (err: unknown) => err instanceof RaftLogLostError && err.node === 'n3' && err.commit === 4 && err.lastIndex === 1,
    );
  });
});

describe('Raft §5.3 log replication', () => {
  it('"The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers"', () => {
    const c = cluster(3);
    c.elect('n1');
    propose(c, 'n1', 'x');
    c.process('n1');
    const rd = c.lastReady.get('n1');
    assert.ok(rd);
    assert.equal(rd.entries.length, 1);
    const appends = rd.messages.filter((m) => m.message.type === 'append');
    assert.deepEqual(appends.map((m) => m.message.to).sort(), ['n2', 'n3']);
    assert.ok(appends.every((m) => !m.afterSync), 'the leader may send appends before its own fsync (thesis §10.2.1)');
  });

  it('"A log entry is committed once the leader that created the entry has replicated it on a majority of the servers"', () => {
    const c = cluster(5);
    c.elect('n1');
    c.isolate('n4');
    c.isolate('n5');
    propose(c, 'n1', 'x');
    c.stabilize();
    assert.equal(c.node('n1').raft.log.committed, 2, 'committed with 3 of 5');
    c.isolate('n3');
    propose(c, 'n1', 'y');
    c.stabilize();
    assert.equal(c.node('n1').raft.log.committed, 2, 'not committed with 2 of 5');
  });

  it('"Once a follower learns that a log entry is committed, it applies the entry to its local state machine (in log order)"', () => {
    const c = cluster(3);
    c.elect('n1');
    for (const v of ['a', 'b', 'c']) propose(c, 'n1', v);
    c.stabilize();
    for (const n of c.nodes.values()) assert.deepEqual(n.values, ['a', 'b', 'c']);
  });

  it('Log Matching: "If two entries in different logs have the same index and term, then the logs are identical in all preceding entries" (consistency check rejects)', () => {
    const { raft } = nodeWithLog('n2', ['n1', 'n2', 'n3'], [1, 1, 2], 2);
    raft.step({ type: 'append', from: 'n1', to: 'n2', term: 3, index: 3, logTerm: 3, entries: [], commit: 0 });
    const [resp] = drainMessages(raft);
    assert.ok(resp?.type === 'append-response' && resp.reject, 'mismatched previous entry is rejected');
    raft.step({ type: 'append', from: 'n1', to: 'n2', term: 3, index: 3, logTerm: 2, entries: [], commit: 0 });
    const [ok] = drainMessages(raft);
    assert.ok(ok?.type === 'append-response' && !ok.reject && ok.index === 3);
  });

  it('"the leader handles inconsistencies by forcing the followers\' logs to duplicate its own" (Figure 7 followers)', () => {
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: number[][] = [
      [1, 1, 1, 4, 4, 5, 5, 6, 6], // (a) missing
      [1, 1, 1, 4], // (b) missing more
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // (c) extra
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d) extra of a higher term
      [1, 1, 1, 4, 4, 4, 4], // (e) conflicting
      [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // (f) conflicting
    ];
    for (const f of followers) {
      const voters = ['n1', 'n2', 'n3'];
      const leader = nodeWithLog('n1', voters, leaderLog, 8);
      const follower = nodeWithLog('n2', voters, f, 8);
      leader.raft.campaign();
      persist(leader);
      leader.raft.step({ type: 'vote-response', from: 'n3', to: 'n1', term: 9, reject: false });
      assert.equal(leader.raft.role, 'leader');
      let rounds = 0;
      const pump = () => {
        for (let i = 0; i < 50; i++) {
          const toF: Message[] = [];
          for (const r of [leader, follower]) {
            if (!r.raft.hasReady()) continue;
            const rd = r.raft.ready();
            r.storage.append(rd.entries);
            if (rd.hardState) r.storage.setHardState(rd.hardState);
            for (const m of rd.messages) if (m.message.to === 'n1' || m.message.to === 'n2') toF.push(m.message);
            r.raft.advance(rd);
          }
          if (toF.length === 0) return;
          rounds++;
          for (const m of toF) (m.to === 'n1' ? leader : follower).raft.step(m);
        }
      };
      pump();
      const want = [...leaderLog, 9];
      const got = follower.storage.allEntries().map((e) => e.term);
      assert.deepEqual(got, want, `follower ${JSON.stringify(f)}`);
      assert.ok(rounds < 20, `fast backtracking converged in ${rounds} rounds`);
    }
  });

  it('fast backtracking: a conflicting term is skipped in one round trip, not one entry at a time (§5.3 optimization)', () => {
    const voters = ['n1', 'n2', 'n3'];
    const leader = nodeWithLog('n1', voters, [1, ...Array(50).fill(3)], 3);
    const follower = nodeWithLog('n2', voters, [1, ...Array(50).fill(2)], 3);
    leader.raft.campaign();
    leader.raft.step({ type: 'vote-response', from: 'n3', to: 'n1', term: 4, reject: false });
    let rejects = 0;
    for (let i = 0; i < 20; i++) {
      const msgs: Message[] = [];
      for (const r of [leader, follower]) {
        if (!r.raft.hasReady()) continue;
        const rd = r.raft.ready();
        r.storage.append(rd.entries);
        for (const m of rd.messages) if (m.message.to !== 'n3') msgs.push(m.message);
        r.raft.advance(rd);
      }
      if (msgs.length === 0) break;
      for (const m of msgs) {
        if (m.type === 'append-response' && m.reject) rejects++;
        (m.to === 'n1' ? leader : follower).raft.step(m);
      }
    }
    assert.ok(rejects <= 2, `${rejects} rejections for a 50-entry conflicting suffix`);
    assert.equal(follower.storage.lastIndex(), 52);
  });

  it('Leader Append-Only: "a leader never overwrites or deletes entries in its log; it only appends new entries"', () => {
    const c = cluster(3);
    c.elect('n1');
    for (const v of ['a', 'b']) propose(c, 'n1', v);
    c.stabilize();
    const before = c.node('n1').storage.allEntries().map((e) => `${e.index}/${e.term}`);
    // A stale append from a deposed leader of an older term cannot change the leader's log.
    c.node('n1').raft.step({ type: 'append', from: 'n3', to: 'n1', term: 0, index: 0, logTerm: 0, entries: [], commit: 0 });
    propose(c, 'n1', 'c');
    c.stabilize();
    const after = c.node('n1').storage.allEntries().map((e) => `${e.index}/${e.term}`);
    assert.deepEqual(after.slice(0, before.length), before);
    assert.equal(after.length, before.length + 1);
  });
});

describe('Raft §5.4 safety', () => {
  it('§5.4.1 "the voter denies its vote if its own log is more up-to-date than that of the candidate"', () => {
    const cases: [number, number, boolean][] = [
      // [candidate lastIndex, lastTerm, granted] against a voter with log terms [1, 2, 2]
      [3, 2, true],
      [4, 2, true],
      [2, 2, false],
      [9, 1, false],
      [1, 3, true],
    ];
    for (const [lastIndex, lastTerm, granted] of cases) {
      const { raft } = nodeWithLog('n2', ['n1', 'n2', 'n3'], [1, 2, 2], 2);
      raft.step({ type: 'vote', from: 'n1', to: 'n2', term: 3, lastIndex, lastTerm, transfer: false });
      const resp = drainMessages(raft).find((m) => m.type === 'vote-response');
      assert.ok(resp?.type === 'vote-response');
      assert.equal(!resp.reject, granted, `candidate (${lastIndex}, ${lastTerm})`);
    }
  });

  it('§5.4.2 "Raft never commits log entries from previous terms by counting replicas" (Figure 8)', () => {
    // n1 leads term 2 and replicates index 2 (term 2) to n2 only; then n5 leads term 3 briefly.
    const voters = ids(5);
    const s1 = nodeWithLog('n1', voters, [1, 2], 4);
    // n1 is leader of term 5 (after n5's term 3/4 reign), with the old-term entry 2 on n1,n2,n3.
    s1.raft.campaign();
    persist(s1);
    for (const v of ['n2', 'n3']) s1.raft.step({ type: 'vote-response', from: v, to: 'n1', term: 5, reject: false });
    assert.equal(s1.raft.role, 'leader');
    // Before the leader's own no-op of term 5 is replicated, acknowledgements of index 2 do not commit it.
    const rd = s1.raft.ready();
    s1.storage.append(rd.entries);
    s1.raft.advance(rd);
    for (const v of ['n2', 'n3']) s1.raft.step({ type: 'append-response', from: v, to: 'n1', term: 5, index: 2, reject: false, hintIndex: 0, hintTerm: 0 });
    assert.equal(s1.raft.log.committed, 0, 'entry of term 2 on a majority is not committed by counting');
    for (const v of ['n2', 'n3']) s1.raft.step({ type: 'append-response', from: v, to: 'n1', term: 5, index: 3, reject: false, hintIndex: 0, hintTerm: 0 });
    assert.equal(s1.raft.log.committed, 3, 'committing the term-5 entry commits index 2 indirectly');
  });

  it('Leader Completeness and State Machine Safety under random loss, partitions and timing', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const rng = createRng(1000 + seed);
      const c = cluster(5, {}, seed);
      let value = 0;
      for (let step = 0; step < 600; step++) {
        const r = rng.float();
        if (r < 0.05) c.partition([rng.shuffle(ids(5)).slice(0, 2), []].map((g, i) => (i === 0 ? g : ids(5).filter((x) => !g.includes(x)))));
        else if (r < 0.1) c.heal();
        c.tick(rng.pick(ids(5)));
        const l = c.leader();
        if (l && rng.chance(0.3)) {
          try {
            propose(c, l, `v${value++}`);
          } catch {
            // transfer in progress etc.
          }
        }
        c.processAll();
        c.deliver(
          () => rng.chance(0.8),
          () => rng.chance(0.1),
        );
        // Leader completeness: every leader holds every entry applied anywhere.
        for (const n of c.nodes.values()) {
          if (n.raft.role !== 'leader') continue;
          for (const other of c.nodes.values()) {
            for (const e of other.applied) {
              if (e.index < n.raft.log.firstIndex()) continue;
              assert.equal(n.raft.log.term(e.index), e.term, `seed ${seed}: leader ${n.id} lacks committed ${e.index}`);
            }
          }
        }
      }
      // State machine safety: applied sequences are prefixes of one another.
      const seqs = [...c.nodes.values()].map((n) => n.applied.map((e) => `${e.index}/${e.term}`));
      for (const a of seqs) for (const b of seqs) {
        const k = Math.min(a.length, b.length);
        assert.deepEqual(a.slice(0, k), b.slice(0, k), `seed ${seed}`);
      }
    }
  });
});

describe('Thesis: PreVote, CheckQuorum, reads, transfer', () => {
  it('§9.6 PreVote: "a server that was partitioned away does not disrupt the cluster when it rejoins"', () => {
    const c = cluster(3);
    c.elect('n1');
    c.isolate('n3');
    for (let i = 0; i < 100; i++) {
      c.tickAll();
      c.stabilize();
    }
    assert.equal(c.node('n3').raft.term, 1, 'pre-votes do not increase the term');
    c.heal();
    for (let i = 0; i < 5; i++) {
      c.tickAll();
      c.stabilize();
    }
    assert.equal(c.leader(), 'n1');
    assert.equal(c.node('n1').raft.term, 1);
  });

  it('without PreVote, the rejoining server does disrupt the leader (the problem PreVote solves)', () => {
    const c = cluster(3, noPreVote);
    c.elect('n1');
    c.isolate('n3');
    for (let i = 0; i < 100; i++) {
      c.tickAll();
      c.stabilize();
    }
    assert.ok(c.node('n3').raft.term > 1);
    c.heal();
    for (let i = 0; i < 60; i++) {
      c.tickAll();
      c.stabilize();
    }
    assert.ok(c.node('n1').raft.term > 1, 'the cluster moved to a higher term');
  });

  it('§6.2 CheckQuorum: "a leader steps down if an election timeout elapses without a successful round of heartbeats to a majority"', () => {
    const c = cluster(3);
    c.elect('n1');
    c.isolate('n1');
    for (let i = 0; i < 25; i++) {
      c.tick('n1');
      c.stabilize();
    }
    assert.equal(c.node('n1').raft.role, 'follower');
  });

  it('§6.4 ReadIndex: the read index is released only after a heartbeat round with a majority', () => {
    const c = cluster(3);
    c.elect('n1');
    propose(c, 'n1', 'x');
    c.stabilize();
    const n1 = c.node('n1');
    n1.raft.readIndex('r1');
    c.processAll();
    assert.equal(n1.readStates.length, 0, 'not before the heartbeat acknowledgements');
    c.stabilize();
    assert.deepEqual(n1.readStates, [{ index: 2, context: 'r1' }]);
    // A follower's read is forwarded and answered.
    c.node('n2').raft.readIndex('r2');
    c.stabilize();
    assert.deepEqual(c.node('n2').readStates, [{ index: 2, context: 'r2' }]);
  });

  it('§6.4 "a leader must have committed an entry of its term before serving reads"', () => {
    const c = cluster(3);
    const n1 = c.node('n1');
    n1.raft.campaign();
    // Deliver only the pre-vote and vote rounds, then read before the no-op commits.
    for (let i = 0; i < 4; i++) {
      c.processAll();
      c.deliver((m) => m.type !== 'append');
    }
    assert.equal(n1.raft.role, 'leader');
    n1.raft.readIndex('early');
    c.processAll();
    assert.equal(n1.readStates.length, 0);
    c.stabilize();
    assert.deepEqual(n1.readStates, [{ index: 1, context: 'early' }]);
  });

  it('§6.4.1 lease reads: served without a round trip while the lease holds; not after the lease expires', () => {
    const c = cluster(3, { readOnlyOption: 'lease-based' });
    for (let i = 0; i < 12; i++) c.tickAll(); // boot quiet period
    c.elect('n1');
    c.tickAll();
    c.stabilize();
    const n1 = c.node('n1');
    n1.raft.readIndex('fast');
    c.processAll();
    assert.deepEqual(n1.readStates, [{ index: 1, context: 'fast' }], 'answered at once from the lease');
    c.isolate('n1');
    for (let i = 0; i < 9; i++) {
      c.tick('n1');
      c.stabilize();
    }
    n1.raft.readIndex('late');
    c.processAll();
    assert.equal(n1.readStates.length, 1, 'an expired lease falls back to ReadIndex, which cannot complete');
  });

  it('lease-based reads require CheckQuorum (config validation)', () => {
    assert.throws(() => cluster(3, { readOnlyOption: 'lease-based', checkQuorum: false }), /requires checkQuorum/);
  });

  it('§3.10 leadership transfer: the leader brings the target up to date and sends TimeoutNow', () => {
    const c = cluster(3);
    c.elect('n1');
    c.isolate('n3');
    propose(c, 'n1', 'x');
    c.stabilize();
    c.heal();
    c.node('n1').raft.transferLeadership('n3');
    assert.throws(() => propose(c, 'n1', 'blocked'), /being transferred/);
    c.stabilize();
    assert.equal(c.leader(), 'n3');
    assert.equal(c.node('n1').raft.role, 'follower');
    assert.deepEqual(c.node('n3').values, ['x']);
  });
});

describe('Thesis §4: membership changes', () => {
  it('joint consensus: C(old,new) needs majorities of both; the leader leaves the joint configuration automatically', () => {
    const c = cluster(3);
    const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [], votersOutgoing: [], learnersNext: [] };
    c.addNode('n4', cs);
    c.addNode('n5', cs);
    c.elect('n1');
    c.isolate('n4');
    c.isolate('n5');
    // Replace n2, n3 by n4, n5 in one change.
    c.node('n1').raft.proposeConfChange({
      changes: [
        { type: 'add-voter', node: 'n4' },
        { type: 'add-voter', node: 'n5' },
        { type: 'remove', node: 'n2' },
        { type: 'remove', node: 'n3' },
      ],
    });
    c.stabilize();
    const joint = c.node('n1').raft.confState();
    assert.deepEqual([...joint.voters].sort(), ['n1', 'n4', 'n5']);
    assert.deepEqual([...joint.votersOutgoing].sort(), ['n1', 'n2', 'n3'], 'in C(old,new)');
    // n1, n2, n3 are a majority of C(old) but not of C(new): nothing more commits.
    const committed = c.node('n1').raft.log.committed;
    propose(c, 'n1', 'x');
    c.stabilize();
    assert.equal(c.node('n1').raft.log.committed, committed);
    c.heal();
    for (let i = 0; i < 5; i++) {
      c.tickAll();
      c.stabilize();
    }
    const after = c.node('n1').raft.confState();
    assert.deepEqual([...after.voters].sort(), ['n1', 'n4', 'n5']);
    assert.deepEqual(after.votersOutgoing, [], 'the joint configuration was left automatically');
    assert.deepEqual(c.node('n5').values, ['x']);
  });

  it('learners receive the log but do not vote; promotion makes them voters', () => {
    const c = cluster(3);
    const cs: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [], votersOutgoing: [], learnersNext: [] };
    c.addNode('n4', cs);
    c.elect('n1');
    c.node('n1').raft.proposeConfChange({ changes: [{ type: 'add-learner', node: 'n4' }] });
    c.stabilize();
    propose(c, 'n1', 'x');
    c.stabilize();
    assert.deepEqual(c.node('n4').values, ['x']);
    assert.equal(c.node('n4').raft.promotable(), false);
    c.tick('n4', 50);
    assert.equal(c.node('n4').raft.role, 'follower', 'a learner never campaigns');
    c.node('n1').raft.proposeConfChange({ changes: [{ type: 'add-voter', node: 'n4' }] });
    c.stabilize();
    assert.equal(c.node('n4').raft.promotable(), true);
  });

  it('"a leader that is removed from the configuration steps down once C(new) is committed"', () => {
    const c = cluster(3);
    c.elect('n1');
    c.node('n1').raft.proposeConfChange({ changes: [{ type: 'remove', node: 'n1' }] });
    c.stabilize();
    assert.equal(c.node('n1').raft.role, 'follower');
    assert.equal(c.node('n1').raft.promotable(), false);
    for (let i = 0; i < 40 && !c.leader(); i++) {
      c.tickAll();
      c.stabilize();
    }
    const l = c.leader();
    assert.ok(l === 'n2' || l === 'n3', `new leader ${l}`);
  });

  it('only one membership change may be pending; definite errors say why', () => {
    const c = cluster(3);
    c.elect('n1');
    c.node('n1').raft.proposeConfChange({ changes: [{ type: 'add-learner', node: 'n4' }] });
    assert.throws(() => c.node('n1').raft.proposeConfChange({ changes: [{ type: 'add-learner', node: 'n5' }] }), /already in progress/);
    c.stabilize();
    assert.throws(() => c.node('n1').raft.proposeConfChange({ changes: [] }), /not joint/);
  });
});

describe('§7 snapshots and log compaction', () => {
  it('a follower far behind catches up from a snapshot sent in chunks', () => {
    const c = cluster(3, { snapshotChunkBytes: 8, maxInflightMsgs: 2 });
    c.elect('n1');
    c.isolate('n3');
    for (let i = 0; i < 20; i++) propose(c, 'n1', `value-${i}`);
    c.stabilize();
    c.compact('n1', c.node('n1').raft.log.applied);
    c.heal();
    const chunks: number[] = [];
    c.onDeliver = (m) => {
      if (m.type === 'snapshot') chunks.push(m.offset);
    };
    for (let i = 0; i < 5; i++) {
      c.tickAll();
      c.stabilize();
    }
    const n3 = c.node('n3');
    assert.equal(n3.restoredFrom, 21);
    assert.deepEqual(n3.values, Array.from({ length: 20 }, (_, i) => `value-${i}`));
    const size = c.node('n1').storage.snapshot().data.byteLength;
    assert.ok(chunks.length >= Math.ceil(size / 8), `${chunks.length} chunks for ${size} bytes`);
    propose(c, 'n1', 'after');
    c.stabilize();
    assert.equal(n3.values.at(-1), 'after');
  });

  it('a lost snapshot chunk is retransmitted', () => {
    const c = cluster(3, { snapshotChunkBytes: 16 });
    c.elect('n1');
    c.isolate('n3');
    for (let i = 0; i < 10; i++) propose(c, 'n1', `v${i}`);
    c.stabilize();
    c.compact('n1', c.node('n1').raft.log.applied);
    c.heal();
    let dropped = false;
    c.drop = (m) => {
      if (!dropped && m.type === 'snapshot' && m.offset === 16) {
        dropped = true;
        return true;
      }
      return false;
    };
    for (let i = 0; i < 40; i++) {
      c.tickAll();
      c.stabilize();
    }
    assert.ok(dropped);
    assert.equal(c.node('n3').values.length, 10);
  });
});

describe('proposals, flow control, errors', () => {
  it('followers forward proposals to the leader; with forwarding disabled they refuse with a definite error', () => {
    const c = cluster(3);
    c.elect('n1');
    propose(c, 'n2', 'fwd');
    c.stabilize();
    assert.deepEqual(c.node('n1').values, ['fwd']);
    const d = cluster(3, { disableProposalForwarding: true });
    d.elect('n1');
    assert.throws(
      () => propose(d, 'n2', 'x'),
      (e: Error & { code?: string; definite?: boolean }) => e.code === 'not-leader' && e.definite === true,
    );
  });

  it('no leader: proposals fail with a definite no-leader error', () => {
    const c = cluster(3);
    assert.throws(
      () => propose(c, 'n1', 'x'),
      (e: Error & { code?: string; definite?: boolean }) => e.code === 'no-leader' && e.definite === true,
    );
  });

  it('the uncommitted log is limited by maxUncommittedEntriesBytes', () => {
    const c = cluster(3, { maxUncommittedEntriesBytes: 100 });
    c.elect('n1');
    c.isolate('n1');
    let accepted = 0;
    assert.throws(() => {
      for (let i = 0; i < 100; i++) {
        propose(c, 'n1', 'x'.repeat(20));
        accepted++;
      }
    }, /maxUncommittedEntriesBytes/);
    assert.ok(accepted >= 2 && accepted <= 4, `${accepted} accepted`);
  });

  it('batching: proposals between two Ready drains travel in one append per follower', () => {
    const c = cluster(3);
    c.elect('n1');
    for (let i = 0; i < 50; i++) propose(c, 'n1', `p${i}`);
    c.process('n1');
    const rd = c.lastReady.get('n1');
    assert.ok(rd);
    const appends = rd.messages.filter((m) => m.message.type === 'append' && m.message.to === 'n2');
    assert.equal(appends.length, 1);
    const m = appends[0]?.message;
    assert.ok(m?.type === 'append' && m.entries.length === 50);
    const off = cluster(3, { batchAppends: false });
    off.elect('n1');
    for (let i = 0; i < 5; i++) propose(off, 'n1', `p${i}`);
    off.process('n1');
    const rd2 = off.lastReady.get('n1');
    assert.equal(rd2?.messages.filter((x) => x.message.type === 'append' && x.message.to === 'n2').length, 5);
  });

  it('flow control: maxSizePerMsgBytes splits appends and maxInflightMsgs bounds the window', () => {
    const c = cluster(3, { maxSizePerMsgBytes: 100, maxInflightMsgs: 3 });
    c.elect('n1');
    for (let i = 0; i < 40; i++) propose(c, 'n1', 'y'.repeat(30));
    c.process('n1');
    const rd = c.lastReady.get('n1');
    assert.ok(rd);
    const toN2 = rd.messages.filter((m) => m.message.type === 'append' && m.message.to === 'n2');
    assert.equal(toN2.length, 3, 'three appends in flight at most');
    for (const m of toN2) assert.ok(m.message.type === 'append' && m.message.entries.length <= 2, 'about 100 bytes each');
    c.stabilize();
    assert.equal(c.node('n2').values.length, 40);
  });

  it('followers mark their acknowledgements as afterSync: they may only go out after the fsync', () => {
    const c = cluster(3);
    c.elect('n1');
    propose(c, 'n1', 'x');
    c.processAll();
    c.deliver();
    c.process('n2');
    const rd = c.lastReady.get('n2');
    assert.ok(rd?.mustSync);
    const acks = rd.messages.filter((m) => m.message.type === 'append-response');
    assert.ok(acks.length > 0 && acks.every((m) => m.afterSync));
  });
});
