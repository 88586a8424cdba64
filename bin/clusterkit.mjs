#!/usr/bin/env node
// In a source checkout, runs the TypeScript sources through tsx (never a stale build);
// in an installed package (no src/), runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/run.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/run.js', import.meta.url).href);
}
