/**
 * `clusterkit cluster availability`: seed 04.3.4 measured in the simulator beside its closed
 * forms, for the centralized, hybrid and distributed topologies (see docs/scheduler.md).
 * Bad input exits with code 2 and names the flag.
 */
import { type Command, Option } from 'commander';
import { compareClusterAvailability } from '../../scenarios/cluster-availability.ts';
import { parseTopology, TOPOLOGIES, type Topology } from '../../scenarios/cluster-scenario.ts';
import { commandGroup, durationFlag, intFlag, printJson, table, UsageError } from '../util.ts';

interface AvailabilityFlags {
  topology: string;
  workers: number;
  masters: number;
  mtbf: number;
  mttr: number;
  duration: number;
  seeds: number;
  fencing: 'lease' | 'none';
  json?: boolean;
}

export function registerCluster(program: Command): void {
  const group = commandGroup(program, 'cluster', 'cluster management: master/worker scheduling in three topologies (seed 04.3)');
  group
    .command('availability')
    .description('measure service and control-plane availability under random fail/repair, beside the seed 04.3.4 formulas')
    .option('--topology <t>', 'central, hybrid, distributed or all', 'all')
    .option('--workers <n>', 'workers (peers for distributed)', intFlag('--workers', { min: 1, max: 64 }), 6)
    .option('--masters <n>', 'masters of the hybrid topology', intFlag('--masters', { min: 1, max: 9 }), 3)
    .option('--mtbf <d>', 'mean time between failures of every node (virtual)', durationFlag('--mtbf'), 57_000)
    .option('--mttr <d>', 'mean time to repair (virtual)', durationFlag('--mttr'), 3_000)
    .option('--duration <d>', 'virtual time measured per seed', durationFlag('--duration'), 300_000)
    .option('--seeds <n>', 'seeds averaged', intFlag('--seeds', { min: 1, max: 1000 }), 1)
    .addOption(new Option('--fencing <f>', 'workers stop tasks when their lease ends (lease) or keep them (none)').choices(['lease', 'none']).default('lease'))
    .option('--json', 'print JSON')
    .action((flags: AvailabilityFlags) => {
      let topologies: readonly Topology[];
      try {
        topologies = flags.topology === 'all' ? TOPOLOGIES : [parseTopology(flags.topology)];
      } catch {
        throw new UsageError(`--topology must be one of ${TOPOLOGIES.join(', ')} or all, got ${JSON.stringify(flags.topology)}`);
      }
      if (!(flags.mtbf > 0 && flags.mttr > 0 && flags.duration > 0)) throw new UsageError('--mtbf, --mttr and --duration must be > 0');
      const r = compareClusterAvailability({
        topologies,
        workers: flags.workers,
        masters: flags.masters,
        mtbfMs: flags.mtbf,
        mttrMs: flags.mttr,
        durationMs: flags.duration,
        seeds: flags.seeds,
        config: { fencing: flags.fencing },
      });
      if (flags.json === true) {
        printJson(r);
        return;
      }
      console.log(`node availability A = MTBF/(MTBF+MTTR) = ${r.nodeAvailability.toFixed(4)}; ${r.workersNeeded} of ${flags.workers} workers hold the desired state`);
      console.log(
        table(
          ['topology', 'service measured', 'seed formula', 'quorum-aware', 'control plane measured', 'model', 'all up measured', 'ΠA', 'dup task-s'],
          r.rows.map((x) => [
            x.topology,
            x.measuredService.toFixed(4),
            x.seedFormula.toFixed(4),
            x.quorumAware.toFixed(4),
            x.measuredControlPlane.toFixed(4),
            x.modelControlPlane.toFixed(4),
            x.measuredAllUp.toFixed(4),
            x.modelAllUp.toFixed(4),
            x.duplicateTaskSeconds.toFixed(1),
          ]),
        ),
      );
      for (const x of r.rows) console.log(`${x.topology}: ${x.standsFor}`);
    });
}
