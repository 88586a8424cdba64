import { main } from './main.ts';

const code = await main();
process.exitCode = code;
