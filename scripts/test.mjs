#!/usr/bin/env node
// The test command (`npm test`): type-check, lint, then every AVA suite. It ends with the line
// `N passed, N failed` that CI reads (AVA prints no such line): the type-check and the lint count
// as one check each, plus every AVA test. Extra arguments go to AVA (e.g. a file or --match).
import { $, chalk } from 'zx';
import { countAva } from './ava-count.mjs';

$.verbose = false;
$.quiet = true; // zx would echo every stderr line itself; AVA's output is piped through once, below
const avaArgs = process.argv.slice(2);
let passed = 0;
let failed = 0;

async function gate(name, command) {
  const started = Date.now();
  const result = await command.nothrow();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.exitCode === 0) {
    passed += 1;
    console.log(chalk.green(`✔ ${name} (${seconds}s)`));
  } else {
    failed += 1;
    console.log(chalk.red(`✘ ${name} (${seconds}s)`));
    console.log(result.stdout + result.stderr);
  }
}

await gate('type-check (tsc --noEmit)', $`npx tsc --noEmit`);
await gate('lint (eslint)', $`npx eslint .`);
await gate('layers (dependency-cruiser: no import cycle, arrows only point down)', $`npx depcruise harness --config .dependency-cruiser.cjs --output-type err`);

// AVA's default reporter goes straight to the console; its summary lines are counted from a copy.
const ava = $`npx ava ${avaArgs}`.nothrow();
ava.stdout.pipe(process.stdout);
ava.stderr.pipe(process.stderr);
const result = await ava;
const output = result.stdout + result.stderr;
const { passed: avaPassed, failed: avaFailed } = countAva(output);
passed += avaPassed;
failed += avaFailed;
// AVA failing without a countable summary (a crash, no tests found) is still a failure.
if (result.exitCode !== 0 && avaFailed === 0) failed += 1;
if (avaPassed + avaFailed === 0 && result.exitCode === 0) {
  console.log('AVA ran no tests: that proves nothing');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
