/** Hostile scenario files are bad input: a ValidationError naming the file and the line (exit code 2). */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadScenarioFile, MAX_YAML_FLOW_DEPTH, parseScenario } from '../../harness/scenario/scenario-file.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { tempDir } from '../helpers.ts';

const good = `name: my-cut
description: a power cut
fault: power-cut-active
expect: failover
slo:
  maxOutageSeconds: 90
workload:
  sendRate: 2
  probeIntervalMs: 250
  warmupSeconds: 10
  recoveryTimeoutSeconds: 300
  cooldownSeconds: 10
`;

function rejected(text: string): ValidationError {
  const error = (() => {
    try {
      parseScenario(text, 'x.yaml');
    } catch (e) {
      return e;
    }
    throw new Error('accepted');
  })();
  if (!(error instanceof ValidationError)) throw error as Error;
  return error;
}

test('a billion-laughs document is refused with its line, not a bare ReferenceError', (t) => {
  const laughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]
`;
  const error = rejected(laughs);
  t.is(error.source, 'x.yaml');
  t.deepEqual(error.problems, ['line 2: YAML: the aliases expand to too much data (more than 100 alias expansions; a "billion laughs" document?)']);
});

test('an alias without its anchor names the line', (t) => {
  t.deepEqual(rejected(good.replace('description: a power cut', 'description: *nope')).problems, [
    'line 2: YAML: an alias refers to an anchor that is not defined before it (write &name before *name)',
  ]);
  t.is(parseScenario(good.replace('fault: power-cut-active', 'fault: &f power-cut-active').replace('expect: failover', 'expect: failover\n# a legitimate alias below'), 'x.yaml').fault, 'power-cut-active');
});

test('flow brackets nested 20,000 deep (which crashed the YAML parser out of memory) are refused before parsing', (t) => {
  const error = rejected(`${good}extra: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
  t.deepEqual(error.problems, [`line 13: YAML: brackets nested more than ${MAX_YAML_FLOW_DEPTH} levels deep`]);
  t.regex(rejected(`${good}extra: ${'- '.repeat(5000)}x\n`).problems[0]!, /^line \d+: YAML syntax: /, 'deep block nesting: the parser reports it');
});

test('a duplicate key is refused with its line', (t) => {
  t.regex(rejected(good.replace('fault: power-cut-active', 'fault: power-cut-active\nfault: freeze-active')).problems[0]!, /^line 4: YAML syntax: a key appears twice in the same mapping/);
});

test('sendRate 1e-7 (one message every 116 days, whose pause overflowed the timer) is below the 0.01 minimum', (t) => {
  t.deepEqual(rejected(good.replace('sendRate: 2', 'sendRate: 1e-7')).problems, ['line 8: /workload/sendRate: must be >= 0.01']);
  t.deepEqual(rejected(good.replace('sendRate: 2', 'sendRate: .nan')).problems, ['line 8: /workload/sendRate: must be number']);
  t.deepEqual(rejected(good.replace('warmupSeconds: 10', 'warmupSeconds: 1e308')).problems, ['line 10: /workload/warmupSeconds: must be <= 600']);
});

test('/dev/zero, a FIFO and a directory given as the scenario file are refused at once', (t) => {
  const dir = tempDir();
  const fifo = join(dir, 'scenario.yaml');
  spawnSync('mkfifo', [fifo]);
  for (const [file, kind] of [['/dev/zero', 'a character device'], [fifo, 'a FIFO \\(named pipe\\)'], [dir, 'a directory']] as const) {
    const error = t.throws(() => loadScenarioFile(file), { instanceOf: ValidationError });
    t.regex(error!.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is invalid:\n {2}- cannot read this scenario file: it is ${kind}, not a regular file$`));
  }
});
