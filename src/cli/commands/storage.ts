/**
 * `clusterkit storage check <dir>`: verifies a node's data directory (or a bare WAL directory)
 * without modifying it, and prints its segments, hard state and newest snapshot. Exit code 1
 * with the file and offset on corruption (where a node would refuse to start).
 */
import type { Command } from 'commander';
import { inspectStorage } from '../../runtime/storage/inspect.ts';
import { intFlag, printJson, table } from '../util.ts';

export function registerStorage(program: Command): void {
  const storage = program.command('storage').description('Inspect the on-disk state of a clusterkit node');
  storage
    .command('check')
    .description('Verify every WAL record, the hard state and the newest snapshot of a data dir (read-only)')
    .argument('<dir>', 'a node data directory (with clusterkit.json) or a directory of .wal segments')
    .option('--payload-max <bytes>', 'largest WAL record payload to accept', intFlag('--payload-max', { min: 1, max: 0x7fffffff }))
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, opts: { payloadMax?: number; json?: boolean }) => {
      const report = await inspectStorage(dir, opts.payloadMax);
      if (opts.json === true) {
        printJson(report);
        return;
      }
      if (report.identity !== undefined) {
        process.stdout.write(`cluster ${report.identity.clusterId}, node ${report.identity.nodeId}\n`);
      }
      process.stdout.write(
        `${table(
          ['segment', 'bytes', 'records', 'first index', 'last index', 'torn tail at'],
          report.segments.map((s) => [s.file, s.bytes, s.records, s.firstIndex, s.lastIndex, s.tornTailAt]),
        )}\n`,
      );
      const torn = report.segments.find((s) => s.tornTailAt !== undefined);
      if (torn !== undefined) process.stdout.write(`torn tail in ${torn.file} at offset ${torn.tornTailAt}: a node truncates it on start\n`);
      if (report.hardStateBytes !== undefined) process.stdout.write(`hard state: ${report.hardStateBytes} bytes\n`);
      if (report.snapshot !== undefined) {
        const s = report.snapshot;
        process.stdout.write(`newest snapshot: index ${s.index}, term ${s.term}, ${s.dataBytes} bytes (${s.file})\n`);
      }
      process.stdout.write('ok: no corruption found\n');
    });
}
