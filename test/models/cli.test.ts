import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';

/** Runs the CLI in-process, capturing what it writes. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'clusterkit', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'clusterkit-models-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('cli: clusterkit model availability', () => {
  it("prints the seed's hybrid 0.5987 beside the quorum-aware results", async () => {
    const r = await cli('model', 'availability', '--masters', '3', '--master-availability', '0.99', '--workers', '10', '--worker-availability', '0.95');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hybrid \(seed\).*0\.5987/);
    assert.match(r.stdout, /master quorum, all workers.*0\.5986/);
    assert.match(r.stdout, /control plane only \(majority\).*0\.999702/);
  });
  it('JSON: centralized 0.99·0.95^10 and distributed 1 - 0.05^3', async () => {
    const central = await cli('model', 'availability', '--json');
    const rows = (JSON.parse(central.stdout) as { models: { id: string; availability: number }[] }).models;
    const seedCentral = rows.find((m) => m.id === 'seed-central');
    assert.ok(seedCentral && Math.abs(seedCentral.availability - 0.99 * 0.95 ** 10) < 1e-12);
    const dist = await cli('model', 'availability', '--masters', '1', '--master-availability', '0.95', '--workers', '2', '--worker-availability', '0.95', '--json');
    const d = (JSON.parse(dist.stdout) as { models: { id: string; availability: number }[] }).models.find((m) => m.id === 'seed-distributed');
    assert.ok(d && Math.abs(d.availability - 0.999875) < 1e-12);
  });
  it('Monte Carlo intervals contain the closed forms (seeded)', async () => {
    const r = await cli('model', 'availability', '--masters', '3', '--workers-needed', '8', '--monte-carlo', '--runs', '10', '--horizon', '5000', '--seed', '3', '--json');
    assert.equal(r.code, 0, r.stderr);
    const mc = (JSON.parse(r.stdout) as { monteCarlo: { rows: { id: string; inside: boolean }[] } }).monteCarlo.rows;
    assert.ok(mc.length >= 5);
    for (const row of mc) assert.ok(row.inside, `${row.id} outside its interval`);
  });
  it('heterogeneous lists and MTBF/MTTR', async () => {
    const r = await cli('model', 'availability', '--master-availability', '0.99,0.98,0.97', '--worker-availability', '0.9,0.8', '--json');
    const parsed = JSON.parse(r.stdout) as { masters: number[]; workers: number[] };
    assert.deepEqual(parsed.masters, [0.99, 0.98, 0.97]);
    assert.deepEqual(parsed.workers, [0.9, 0.8]);
    const m = await cli('model', 'availability', '--mtbf', '999h', '--mttr', '1h', '--json');
    assert.ok(Math.abs((JSON.parse(m.stdout) as { nodeAvailabilityFromMtbf: number }).nodeAvailabilityFromMtbf - 0.999) < 1e-12);
  });
  it('writes an SVG chart', async () => {
    const file = join(dir, 'availability.svg');
    const r = await cli('model', 'availability', '--masters', '3', '--svg', file);
    assert.equal(r.code, 0, r.stderr);
    const svg = readFileSync(file, 'utf8');
    assert.match(svg, /^<svg/);
    assert.match(svg, /Availability against cluster size/);
  });
  it('bad input exits 2 naming the flag and the range', async () => {
    const cases: [string[], RegExp][] = [
      [['--master-availability', '1.5'], /--master-availability must be a probability in \[0, 1\]/],
      [['--worker-availability', '-0.1'], /--worker-availability must be a probability in \[0, 1\]/],
      [['--workers', '-3'], /--workers must be >= 0/],
      [['--workers', '2.5'], /--workers must be an integer/],
      [['--masters', '0'], /--masters must be >= 1/],
      [['--workers', '4', '--workers-needed', '5'], /--workers-needed must be in \[0, 4\]/],
      [['--masters', '2', '--master-availability', '0.9,0.9,0.9'], /--master-availability lists 3/],
      [['--target', '1', '--master-availability', '0.9'], /--target 1 is impossible.*allowed range/],
      [['--mtbf', '10h'], /--mtbf and --mttr go together/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('model', 'availability', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});

describe('cli: clusterkit model connectivity|discovery|gossip|quorum|lb', () => {
  it('connectivity: chain C = 2/n, with diameter and path length', async () => {
    const r = await cli('model', 'connectivity', '--topology', 'chain', '--nodes', '10', '--json');
    const row = (JSON.parse(r.stdout) as { rows: { density: number; diameter: number; connected: boolean }[] }).rows[0];
    assert.ok(row && Math.abs(row.density - 0.2) < 1e-15);
    assert.equal(row.diameter, 9);
    assert.equal(row.connected, true);
    const table = await cli('model', 'connectivity', '--nodes', '12');
    for (const t of ['full', 'chain', 'ring', 'star', 'random', 'regular', 'small-world']) assert.match(table.stdout, new RegExp(`^${t} `, 'm'));
  });
  it('connectivity rejects unknown topologies and bad degrees with exit 2', async () => {
    const unknown = await cli('model', 'connectivity', '--topology', 'mesh');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--topology.*Allowed choices are full, chain/);
    const degree = await cli('model', 'connectivity', '--topology', 'regular', '--nodes', '5', '--degree', '3');
    assert.equal(degree.code, 2);
    assert.match(degree.stderr, /--degree must be in \[0, 4\]/);
    const p = await cli('model', 'connectivity', '--edge-probability', '2');
    assert.equal(p.code, 2);
    assert.match(p.stderr, /--edge-probability must be <= 1/);
  });
  it("discovery: the seed's table beside the computed ratings", async () => {
    const r = await cli('model', 'discovery', '--json');
    const rows = (JSON.parse(r.stdout) as { rows: { model: string; seedTotal: string; computedRating: string }[] }).rows;
    assert.deepEqual(
      rows.map((x) => [x.model, x.seedTotal, x.computedRating]),
      [
        ['client-side', 'low', 'low'],
        ['server-side', 'medium', 'medium'],
        ['registry', 'low', 'low'],
      ],
    );
    const bad = await cli('model', 'discovery', '--cache-hit-ratio', '1.1');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--cache-hit-ratio must be <= 1/);
  });
  it('gossip: push log2 n + ln n and the Demers residue for k = 1', async () => {
    const r = await cli('model', 'gossip', '--nodes', '1024', '--runs', '5', '--k', '1', '--json');
    const parsed = JSON.parse(r.stdout) as { rounds: { mode: string; asymptotic: number; simulatedMean: number }[]; rumorMongering: { k: number; residue: number }[] };
    const push = parsed.rounds.find((x) => x.mode === 'push');
    assert.ok(push && Math.abs(push.asymptotic - (10 + Math.log(1024))) < 1e-12);
    assert.ok(Math.abs((parsed.rumorMongering[0]?.residue ?? 0) - 0.2032) < 1e-3);
    const bad = await cli('model', 'gossip', '--nodes', '0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--nodes must be >= 1/);
  });
  it('quorum: 5 voters tolerate 2, Flexible Paxos non-intersection is flagged', async () => {
    const r = await cli('model', 'quorum', '--voters', '5', '--acks', '3', '--q1', '2', '--q2', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^5 +3 +2 /m);
    assert.match(r.stdout, /do NOT intersect/);
    const election = await cli('model', 'quorum', '--logs', '3:7,3:6,3:6,2:9,2:4', '--json');
    assert.deepEqual((JSON.parse(election.stdout) as { election: unknown }).election, { mostUpToDate: [1], possibleLeaders: [1, 2, 3] });
    const mismatch = await cli('model', 'quorum', '--voters', '3', '--logs', '1:1,1:2');
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /--logs lists 2 nodes but --voters is 3/);
    const bad = await cli('model', 'quorum', '--voters', '3', '--acks', '4');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--acks must be in \[0, 3\]/);
  });
  it('lb: round robin (i mod n)+1, weights, least connections, consistent hashing', async () => {
    const r = await cli('model', 'lb', '--names', 'a,b,c', '--weights', '5,1,1', '--connections', '3,1,2', '--keys', 'k1', '--json');
    const parsed = JSON.parse(r.stdout) as { roundRobin: number[]; weightedRoundRobin: number[]; leastConnections: number; consistentHash: { key: string; instance: number }[] };
    assert.deepEqual(parsed.roundRobin, [1, 2, 3, 1, 2, 3, 1]);
    assert.deepEqual(parsed.weightedRoundRobin, [1, 1, 2, 1, 3, 1, 1]);
    assert.equal(parsed.leastConnections, 2);
    assert.equal(parsed.consistentHash.length, 1);
    const bad = await cli('model', 'lb', '--instances', '3', '--weights', '1,2');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--weights must list one weight per instance \(3\)/);
  });
});

describe('cli: clusterkit advise', () => {
  it('recommends a topology with its availability and named technologies', async () => {
    const r = await cli('advise', '--nodes', '13', '--target', '0.999', '--consistency', 'strong', '--workload', 'container');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Topology: /m);
    assert.match(r.stdout, /^Consistency: .*Raft/m);
    assert.match(r.stdout, /etcd/);
    assert.match(r.stdout, /CoreDNS/);
    assert.match(r.stdout, /Ingress/);
  });
  it('an impossible target exits 2 naming --target and the reachable range', async () => {
    const r = await cli('advise', '--nodes', '3', '--target', '0.999999', '--node-availability', '0.9');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--target 0\.999999 is impossible.*allowed range \(0, 0\.7290\]/);
    const one = await cli('advise', '--nodes', '3', '--target', '1');
    assert.equal(one.code, 2);
    assert.match(one.stderr, /--target must be in \(0, 1\)/);
    const missing = await cli('advise');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--nodes/);
    const consistency = await cli('advise', '--nodes', '3', '--consistency', 'linear');
    assert.equal(consistency.code, 2);
    assert.match(consistency.stderr, /Allowed choices are strong, eventual, causal/);
  });
  it('--monte-carlo checks every candidate by simulation', async () => {
    const r = await cli('advise', '--nodes', '7', '--node-availability', '0.95', '--target', '0.95', '--monte-carlo', '--runs', '8', '--horizon', '4000', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = (JSON.parse(r.stdout) as { monteCarlo: { rows: { kind: string; inside: boolean; conclusive: boolean }[] } }).monteCarlo.rows;
    assert.equal(rows.length, 4);
    for (const row of rows) assert.ok(row.conclusive && row.inside, `${row.kind}: ${JSON.stringify(row)}`);
  });
  it('the installed binary runs end to end (spawned process)', () => {
    const r = spawnSync(process.execPath, ['bin/clusterkit.mjs', 'advise', '--nodes', '5', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const advice = JSON.parse(r.stdout) as { topology: { kind: string; availability: number } };
    assert.ok(advice.topology.availability >= 0.999);
    const bad = spawnSync(process.execPath, ['bin/clusterkit.mjs', 'model', 'availability', '--master-availability', '2'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--master-availability must be a probability in \[0, 1\]/);
  });
});
