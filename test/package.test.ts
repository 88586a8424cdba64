import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

describe('package', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    exports: Record<string, unknown>;
    bin: Record<string, string>;
    type: string;
  };
  it('is ESM with a clusterkit bin and exactly two public entry points', () => {
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.bin.clusterkit, 'bin/clusterkit.mjs');
    assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './package.json', './testing']);
  });
  it('blocks imports of internals', async () => {
    await assert.rejects(import('clusterkit/src/core/rng.ts' as string), (e: unknown) => (e as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    await assert.rejects(import('clusterkit/dist/sim/simulator.js' as string), (e: unknown) => (e as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
  it('uses the strict compiler flags', () => {
    const ts = JSON.parse(readFileSync(new URL('../tsconfig.json', import.meta.url), 'utf8')) as { compilerOptions: Record<string, unknown> };
    for (const flag of ['strict', 'noUncheckedIndexedAccess', 'exactOptionalPropertyTypes', 'noImplicitOverride', 'noFallthroughCasesInSwitch', 'verbatimModuleSyntax']) {
      assert.equal(ts.compilerOptions[flag], true, flag);
    }
  });
});
