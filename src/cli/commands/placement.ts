/**
 * `clusterkit placement lookup|stats`: where keys land under each consistent-hashing
 * placement, and how balanced and disruptive a placement is (seed 04.2.3 f: D → N, 04.7.4
 * consistent hashing).
 *
 *   clusterkit placement lookup --algo maglev --nodes a,b,c KEY...
 *   clusterkit placement stats --algo ring --nodes 10 --keys 100000 [--json]
 *
 * Nodes: a count (n1..nN) or a comma-separated list of `id[=weight][@zone]`.
 */
import { InvalidArgumentError as CommanderInvalidArgument, type Command } from 'commander';
import { defaultNodeIds } from '../../core/ids.ts';
import { BoundedLoad } from '../../placement/bounded-load.ts';
import { createPlacement, PLACEMENT_KINDS, type PlacementOptions } from '../../placement/index.ts';
import type { NodeSpec, Placement, PlacementKind, WalkablePlacement } from '../../placement/types.ts';
import { floatFlag, intFlag, printJson, table, UsageError } from '../util.ts';

function algoFlag(value: string): PlacementKind {
  if (!(PLACEMENT_KINDS as readonly string[]).includes(value)) {
    throw new CommanderInvalidArgument(`--algo must be one of ${PLACEMENT_KINDS.join(', ')}; got ${JSON.stringify(value)}`);
  }
  return value as PlacementKind;
}

/** `10` → n1..n10; `a,b=2,c@z1,d=3@z2` → specs. */
export function parseNodesFlag(value: string): NodeSpec[] {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const count = Number(trimmed);
    if (count < 1 || count > 100_000) throw new CommanderInvalidArgument(`--nodes count must be in 1..100000, got ${count}`);
    return defaultNodeIds(count).map((id) => ({ id }));
  }
  const specs: NodeSpec[] = [];
  for (const part of trimmed.split(',')) {
    let rest = part.trim();
    let zone: string | undefined;
    const at = rest.lastIndexOf('@');
    if (at > 0) {
      zone = rest.slice(at + 1);
      rest = rest.slice(0, at);
    }
    let weight: number | undefined;
    const eq = rest.lastIndexOf('=');
    if (eq > 0) {
      weight = Number(rest.slice(eq + 1));
      if (!Number.isFinite(weight) || weight <= 0) throw new CommanderInvalidArgument(`--nodes: weight of ${JSON.stringify(rest.slice(0, eq))} must be a number > 0, got ${JSON.stringify(rest.slice(eq + 1))}`);
      rest = rest.slice(0, eq);
    }
    if (rest === '') throw new CommanderInvalidArgument(`--nodes: empty node id in ${JSON.stringify(value)}`);
    if (zone === '') throw new CommanderInvalidArgument(`--nodes: empty zone for ${JSON.stringify(rest)}`);
    specs.push({ id: rest, ...(weight === undefined ? {} : { weight }), ...(zone === undefined ? {} : { zone }) });
  }
  return specs;
}

function nodesFlag(value: string): NodeSpec[] {
  return parseNodesFlag(value);
}

interface CommonOpts {
  algo: PlacementKind;
  nodes: NodeSpec[];
  points?: number;
  tableSize?: number;
}

function build(opts: CommonOpts): Placement {
  const options: PlacementOptions = {
    ...(opts.points === undefined ? {} : { pointsPerWeight: opts.points }),
    ...(opts.tableSize === undefined ? {} : { tableSize: opts.tableSize }),
  };
  return createPlacement(opts.algo, opts.nodes, options);
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--algo <name>', `placement algorithm: ${PLACEMENT_KINDS.join(', ')}`, algoFlag)
    .requiredOption('--nodes <list|count>', 'node count, or comma-separated id[=weight][@zone]', nodesFlag)
    .option('--points <n>', 'ring: points per unit of weight (default 160)', intFlag('--points', { min: 1, max: 100_000 }))
    .option('--table-size <prime>', 'maglev: table size, a prime (default 65537)', intFlag('--table-size', { min: 2, max: 16_777_259 }));
}

export function registerPlacement(program: Command): void {
  const placement = program.command('placement').description('consistent hashing: ring, ketama, rendezvous, jump, maglev; lookups and balance/disruption stats');

  withCommonOptions(placement.command('lookup').description('print the node (or preference list) for each key').argument('<keys...>', 'keys to place'))
    .option('--replicas <n>', 'print a preference list of n distinct nodes', intFlag('--replicas', { min: 1, max: 64 }))
    .option('--distinct-zones', 'preference lists with one node per zone')
    .option('--json', 'JSON output')
    .action((keys: string[], opts: CommonOpts & { replicas?: number; distinctZones?: boolean; json?: boolean }) => {
      const p = build(opts);
      const rows = keys.map((key) => {
        const nodes = opts.replicas === undefined && !opts.distinctZones ? [p.lookup(key)] : p.preference(key, opts.replicas ?? 1, { distinctZones: opts.distinctZones ?? false });
        return { key, hash: p.hashKey(key), nodes };
      });
      if (opts.json) printJson({ algo: p.kind, results: rows });
      else console.log(table(['key', 'hash', 'nodes'], rows.map((r) => [r.key, `0x${r.hash.toString(16).padStart(8, '0')}`, r.nodes.join(',')])));
    });

  withCommonOptions(placement.command('stats').description('balance, disruption on add/remove, build time and lookup cost over synthetic keys'))
    .option('--keys <n>', 'number of synthetic keys key:0..key:n-1 (default 100000)', intFlag('--keys', { min: 1, max: 10_000_000 }), 100_000)
    .option('--epsilon <e>', 'also report bounded-load hashing with this ε (ring, ketama, rendezvous, maglev)', floatFlag('--epsilon', { min: 0, minExclusive: true, max: 100 }))
    .option('--json', 'JSON output')
    .action((opts: CommonOpts & { keys: number; epsilon?: number; json?: boolean }) => {
      const keys = Array.from({ length: opts.keys }, (_, i) => `key:${i}`);
      const t0 = process.hrtime.bigint();
      const p = build(opts);
      const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const owners = new Int32Array(keys.length);
      for (let i = 0; i < Math.min(keys.length, 50_000); i++) owners[i] = p.lookupIndex(keys[i] as string); // warm-up
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < keys.length; i++) owners[i] = p.lookupIndex(keys[i] as string);
      const nsPerLookup = Number(process.hrtime.bigint() - t1) / keys.length;
      const counts = new Array<number>(p.nodes.length).fill(0);
      for (const o of owners) counts[o] = (counts[o] ?? 0) + 1;
      const mean = keys.length / p.nodes.length;
      const stddev = Math.sqrt(counts.reduce((a, c) => a + (c - mean) ** 2, 0) / counts.length);
      const ids = p.nodes.map((n) => n.id);
      const ownerIds = Array.from(owners, (o) => ids[o] as string);
      const moved = (q: Placement) => {
        let m = 0;
        for (let i = 0; i < keys.length; i++) if (q.lookup(keys[i] as string) !== ownerIds[i]) m++;
        return m / keys.length;
      };
      let addId = `n${p.nodes.length + 1}`;
      while (ids.includes(addId)) addId = `${addId}x`;
      const movedOnAdd = moved(p.withNodes([...opts.nodes, { id: addId }]));
      // Jump removes only its last bucket minimally; the others lose the first node in id order.
      const removeId = opts.algo === 'jump' ? (opts.nodes[opts.nodes.length - 1] as NodeSpec).id : (ids[0] as string);
      const movedOnRemove = opts.nodes.length > 1 ? moved(p.withNodes(opts.nodes.filter((n) => n.id !== removeId))) : Number.NaN;
      const result: Record<string, unknown> = {
        algo: p.kind,
        nodes: p.nodes.length,
        keys: keys.length,
        buildMs,
        nsPerLookup,
        memoryBytes: p.memoryBytes,
        maxOverMean: Math.max(...counts) / mean,
        minOverMean: Math.min(...counts) / mean,
        stddevOverMean: stddev / mean,
        movedOnAdd,
        movedOnRemove,
        removed: removeId,
        ideal: 1 / (p.nodes.length + 1),
      };
      if (opts.epsilon !== undefined) {
        if (typeof (p as Partial<WalkablePlacement>).walk !== 'function') throw new UsageError(`--epsilon: bounded load needs a placement with a preference walk; ${p.kind} has none`);
        const bl = new BoundedLoad(p as WalkablePlacement, { epsilon: opts.epsilon });
        for (const key of keys) bl.acquire(key);
        const loads = bl.loadsByIndex();
        const cap = Math.ceil((1 + opts.epsilon) * mean - 1e-9);
        result.boundedLoad = { epsilon: opts.epsilon, cap, maxLoad: Math.max(...loads), maxOverMean: Math.max(...loads) / mean };
      }
      if (opts.json) {
        printJson(result);
        return;
      }
      const rows: [string, unknown][] = [
        ['algorithm', result.algo],
        ['nodes', result.nodes],
        ['keys', result.keys],
        ['build ms', buildMs],
        ['ns per lookup', nsPerLookup],
        ['structure bytes', p.memoryBytes],
        ['max/mean load', result.maxOverMean],
        ['min/mean load', result.minOverMean],
        ['stddev/mean load', result.stddevOverMean],
        ['moved on add (ideal 1/(n+1))', `${movedOnAdd.toFixed(4)} (${(1 / (p.nodes.length + 1)).toFixed(4)})`],
        [`moved on remove of ${removeId}`, Number.isNaN(movedOnRemove) ? 'n/a (one node)' : movedOnRemove.toFixed(4)],
      ];
      const bl = result.boundedLoad as { epsilon: number; cap: number; maxLoad: number; maxOverMean: number } | undefined;
      if (bl) rows.push([`bounded load ε=${bl.epsilon}: max load / cap`, `${bl.maxLoad} / ${bl.cap} (max/mean ${bl.maxOverMean.toFixed(4)})`]);
      console.log(table(['measure', 'value'], rows));
    });
}
