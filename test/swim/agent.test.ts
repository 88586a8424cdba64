import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fastConfig } from '../../src/membership/swim/config.ts';
import type { SwimEvent } from '../../src/membership/swim/member.ts';
import { parseHostPort, queryAgentStatus, SwimAgent } from '../../src/runtime/swim/agent.ts';
import { Keyring } from '../../src/runtime/swim/keyring.ts';

const BIN = new URL('../../bin/clusterkit.mjs', import.meta.url).pathname;

/** Resolves when `pred` holds for an event (past or future); rejects after `timeoutMs`. */
function eventWaiter(agent: SwimAgent) {
  const seen: SwimEvent[] = [];
  const waiters: { pred: (e: SwimEvent) => boolean; resolve: () => void }[] = [];
  agent.onEvent((e) => {
    seen.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return (pred: (e: SwimEvent) => boolean, what: string, timeoutMs = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      if (seen.some(pred)) return resolve();
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      waiters.push({ pred, resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
}

describe('SWIM keyring', () => {
  it('primary key encrypts, every installed key decrypts, rotation install → use → remove', () => {
    const k1 = Buffer.from(Keyring.generateKey(), 'base64');
    const k2 = Buffer.from(Keyring.generateKey(), 'base64');
    const old = new Keyring([k1]);
    const sealed = old.seal(new TextEncoder().encode('hello'));
    const ring = new Keyring([k1]);
    ring.install(k2);
    assert.equal(new TextDecoder().decode(ring.open(sealed)), 'hello');
    ring.use(k2);
    const fresh = ring.seal(new TextEncoder().encode('v2'));
    assert.equal(old.open(fresh), undefined, 'old-only ring must not read the new primary');
    assert.throws(() => ring.remove(k2), /primary/);
    ring.remove(k1);
    assert.equal(ring.open(sealed), undefined);
    assert.equal(new TextDecoder().decode(ring.open(fresh)), 'v2');
    const tampered = Uint8Array.from(fresh);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    assert.equal(ring.open(tampered), undefined);
    assert.equal(ring.open(new Uint8Array(3)), undefined);
  });

  it('rejects keys of the wrong size with a message naming the size', () => {
    assert.throws(() => Keyring.fromBase64(['abcd']), /32 bytes/);
    assert.throws(() => Keyring.fromBase64(['not base64!']), /base64/);
  });
});

describe('SWIM agent over UDP/TCP (in-process, loopback)', () => {
  const agents: SwimAgent[] = [];
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
  });

  it('encrypted members join and see each other; a wrongly-keyed member cannot join and is counted', async () => {
    const key = Keyring.generateKey();
    const cfg = fastConfig();
    const a = await SwimAgent.start({ name: 'e1', bind: '127.0.0.1:0', config: cfg, keyring: Keyring.fromBase64([key]), seed: 1 });
    agents.push(a);
    const waitA = eventWaiter(a);
    const b = await SwimAgent.start({ name: 'e2', bind: '127.0.0.1:0', config: cfg, keyring: Keyring.fromBase64([key]), seed: 2 });
    agents.push(b);
    assert.equal(await b.join([a.address]), 1);
    await waitA((e) => e.type === 'join' && e.member.name === 'e2', 'e1 to see e2');
    const status = await queryAgentStatus(a.address);
    assert.deepEqual(status.members.map((m) => [m.name, m.state]), [['e1', 'alive'], ['e2', 'alive']]);

    const intruder = await SwimAgent.start({ name: 'x1', bind: '127.0.0.1:0', config: cfg, keyring: Keyring.fromBase64([Keyring.generateKey()]), seed: 3 });
    agents.push(intruder);
    await assert.rejects(intruder.join([a.address]), /could not join the cluster: no seed answered/);
    assert.ok(a.agentStats.decryptFailed >= 1);

    // Garbage and plaintext datagrams are dropped and counted, the agent keeps running.
    const sock = dgram.createSocket('udp4');
    const hp = parseHostPort(a.address);
    const before = a.agentStats.decryptFailed;
    await new Promise<void>((r) => sock.send(Buffer.from('garbage'), hp.port, hp.host, () => r()));
    await new Promise<void>((r) => sock.send(Buffer.alloc(5000), hp.port, hp.host, () => r()));
    sock.close();
    const deadline = Date.now() + 5000;
    while ((a.agentStats.decryptFailed === before || a.agentStats.datagramsOversized === 0) && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(a.agentStats.decryptFailed, before + 1);
    assert.equal(a.agentStats.datagramsOversized, 1);
    assert.equal((await queryAgentStatus(a.address)).members.length, 2);
  });

  it('keys rotate live: install everywhere, use everywhere, remove the old one; a new-key-only member joins', async () => {
    const oldKey = Keyring.generateKey();
    const newKey = Keyring.generateKey();
    const ringA = Keyring.fromBase64([oldKey]);
    const ringB = Keyring.fromBase64([oldKey]);
    const a = await SwimAgent.start({ name: 'k1', bind: '127.0.0.1:0', config: fastConfig(), keyring: ringA, seed: 7 });
    const b = await SwimAgent.start({ name: 'k2', bind: '127.0.0.1:0', config: fastConfig(), keyring: ringB, seed: 8 });
    agents.push(a, b);
    assert.equal(await b.join([a.address]), 1);
    const newBytes = Buffer.from(newKey, 'base64');
    ringA.install(newBytes);
    ringB.install(newBytes);
    ringA.use(newBytes);
    ringB.use(newBytes);
    ringA.remove(Buffer.from(oldKey, 'base64'));
    ringB.remove(Buffer.from(oldKey, 'base64'));
    const c = await SwimAgent.start({ name: 'k3', bind: '127.0.0.1:0', config: fastConfig(), keyring: Keyring.fromBase64([newKey]), seed: 9 });
    agents.push(c);
    const waitC = eventWaiter(c);
    assert.equal(await c.join([a.address]), 1);
    await waitC((e) => e.type === 'join' && e.member.name === 'k2', 'k3 to learn k2 through the rotated cluster');
    assert.equal(a.agentStats.decryptFailed + b.agentStats.decryptFailed, 0);
  });

  it('a join to an unreachable seed fails with a clear message', async () => {
    const a = await SwimAgent.start({ name: 'u1', bind: '127.0.0.1:0', config: fastConfig(), seed: 4, streamTimeoutMs: 2000 });
    agents.push(a);
    // A port we just freed: nothing listens there.
    const probe = await SwimAgent.start({ name: 'u2', bind: '127.0.0.1:0', config: fastConfig(), seed: 5 });
    const freed = probe.address;
    await probe.close();
    await assert.rejects(a.join([freed]), (err: Error) => err.message.includes(freed) && /ECONNREFUSED/.test(err.message));
  });

  it('plaintext agents reject malformed datagrams by reason', async () => {
    const a = await SwimAgent.start({ name: 'p1', bind: '127.0.0.1:0', config: fastConfig(), seed: 6 });
    agents.push(a);
    const sock = dgram.createSocket('udp4');
    const hp = parseHostPort(a.address);
    await new Promise<void>((r) => sock.send(Buffer.from([0x53, 1, 0, 0, 0, 9, 0x7b]), hp.port, hp.host, () => r()));
    await new Promise<void>((r) => sock.send(Buffer.from('hello world'), hp.port, hp.host, () => r()));
    sock.close();
    const deadline = Date.now() + 5000;
    const r = a.member.stats.rejected;
    while ((r.truncated === 0 || r['bad-magic'] === 0) && Date.now() < deadline) await new Promise((res) => setImmediate(res));
    assert.equal(a.member.stats.rejected.truncated, 1);
    assert.equal(a.member.stats.rejected['bad-magic'], 1);
  });
});

interface Line {
  event: string;
  name?: string;
  address?: string;
  incarnation?: number;
}

class AgentProcess {
  readonly lines: Line[] = [];
  readonly proc: ChildProcessWithoutNullStreams;
  private waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  stderr = '';

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [BIN, 'gossip', 'agent', '--json', '--preset', 'fast', ...args], { stdio: 'pipe' });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    createInterface({ input: this.proc.stdout }).on('line', (text) => {
      let l: Line;
      try {
        l = JSON.parse(text) as Line;
      } catch {
        return;
      }
      this.lines.push(l);
      for (const w of [...this.waiters]) {
        if (w.pred(l)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    });
  }

  waitFor(pred: (l: Line) => boolean, what: string, timeoutMs = 30_000): Promise<Line> {
    const found = this.lines.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  }

  kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((r) => {
      this.proc.once('exit', () => r());
      this.proc.kill('SIGKILL');
    });
  }
}

describe('SWIM agents as real processes', () => {
  const procs: AgentProcess[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
  });

  it('5 agents on loopback: kill one, the others see it fail; restart it, they see it rejoin; SIGTERM leaves gracefully', { timeout: 120_000 }, async () => {
    const first = new AgentProcess(['--name', 'r1', '--bind', '127.0.0.1:0']);
    procs.push(first);
    const seed = (await first.waitFor((l) => l.event === 'listening', 'r1 listening')).address as string;
    const names = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const byName = new Map<string, AgentProcess>([['r1', first]]);
    for (const name of names.slice(1)) {
      const p = new AgentProcess(['--name', name, '--bind', '127.0.0.1:0', '--join', seed]);
      procs.push(p);
      byName.set(name, p);
    }
    // Everyone learns of everyone.
    await Promise.all(
      names.flatMap((n) => names.filter((m) => m !== n).map((m) => (byName.get(n) as AgentProcess).waitFor((l) => l.event === 'join' && l.name === m, `${n} to see ${m} join`))),
    );
    const victim = byName.get('r3') as AgentProcess;
    await victim.kill();
    const others = names.filter((n) => n !== 'r3');
    await Promise.all(others.map((n) => (byName.get(n) as AgentProcess).waitFor((l) => l.event === 'fail' && l.name === 'r3', `${n} to see r3 fail`)));
    // Restart r3 under the same name (new port): it refutes its death with a higher incarnation.
    const again = new AgentProcess(['--name', 'r3', '--bind', '127.0.0.1:0', '--join', seed]);
    procs.push(again);
    await Promise.all(
      others.map((n) =>
        (byName.get(n) as AgentProcess).waitFor((l) => l.event === 'join' && l.name === 'r3' && (l.incarnation ?? 0) >= 1, `${n} to see r3 rejoin`),
      ),
    );
    // SIGTERM is a graceful leave: the others print `leave`, not `fail`.
    const leaver = byName.get('r2') as AgentProcess;
    const exited = new Promise<number | null>((r) => leaver.proc.once('exit', (code) => r(code)));
    leaver.proc.kill('SIGTERM');
    const stayers = others.filter((n) => n !== 'r2');
    await Promise.all(stayers.map((n) => (byName.get(n) as AgentProcess).waitFor((l) => l.event === 'leave' && l.name === 'r2', `${n} to see r2 leave`)));
    assert.equal(await exited, 0);
    // No live member was ever declared dead.
    for (const n of others) {
      const wrong = (byName.get(n) as AgentProcess).lines.filter((l) => l.event === 'fail' && l.name !== 'r3');
      assert.deepEqual(wrong, [], `${n} declared a live member dead`);
    }
  });
});
