/** Lab configs from people: exact private /16 prefixes, bounded waits, duplicate keys, lines, no echoed input. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LAB_CONFIG, loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { tempDir } from '../helpers.ts';

const text = readFileSync(DEFAULT_LAB_CONFIG, 'utf8');

function load(content: string): ValidationError | ReturnType<typeof loadLabConfig> {
  const file = join(tempDir(), 'lab.json');
  writeFileSync(file, content);
  try {
    return loadLabConfig(file);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
}

const withPrefix = (prefix: string) => text.replace('"prefix": "10.213"', `"prefix": ${JSON.stringify(prefix)}`);
const prefixLine = text.split('\n').findIndex((l) => l.includes('"prefix"')) + 1;

test('network.prefix accepts exactly the private /16 prefixes', (t) => {
  for (const good of ['10.0', '10.213', '10.255', '172.16', '172.31', '192.168']) {
    const config = load(withPrefix(good));
    t.false(config instanceof ValidationError, good);
    if (!(config instanceof ValidationError)) t.regex(planLab(config).virtualIp, new RegExp(`^${good.replace('.', '\\.')}\\.\\d+\\.\\d+$`));
  }
  for (const bad of ['172.16.5', '192.168.1', '172.31.255', '10.256', '10.999', '10', '172.15', '172.32', '192.169', '010.1', '10.01', '8.8', '']) {
    const error = load(withPrefix(bad));
    t.true(error instanceof ValidationError, bad);
    t.deepEqual((error as ValidationError).problems, [
      `line ${prefixLine}: /network/prefix: must be the first two octets of a private /16 network: 10.0 to 10.255, 172.16 to 172.31, or 192.168 (e.g. 10.213); the lab's addresses are <prefix>.<subnet>.<host>`,
    ], bad);
  }
});

test('waits have a maximum (1e308 became Infinity ms), and duration strings a bounded number of digits', (t) => {
  const huge = load(text.replace('"bootS": 600', '"bootS": 1e308').replace('"clusterReadyS": 600', '"clusterReadyS": 99999999'));
  t.true(huge instanceof ValidationError);
  t.deepEqual((huge as ValidationError).problems.map((p) => p.replace(/^line \d+: /, '')), ['/waits/bootS: must be <= 7200', '/waits/clusterReadyS: must be <= 7200']);
  const digits = load(text.replace('"stonithTimeout": "120s"', '"stonithTimeout": "99999999999999999999s"'));
  t.regex((digits as ValidationError).problems[0]!, /^line \d+: \/cluster\/stonithTimeout: must be whole seconds, at most 5 digits/);
});

test('a duplicate key names the key and both lines instead of silently keeping the last', (t) => {
  const duplicated = text.replace('"name": "lab",', '"name": "lab",\n  "name": "other",');
  const error = load(duplicated) as ValidationError;
  t.true(error instanceof ValidationError);
  t.deepEqual(error.problems, ['not valid JSON: line 4, column 3: duplicate key name in the top-level object (first at line 3); JSON readers would silently keep only the last']);
});

test('schema errors carry the line of the field', (t) => {
  const error = load(text.replace('"cpus": 1', '"cpus": 99')) as ValidationError;
  const line = text.split('\n').findIndex((l) => l.includes('"cpus"')) + 1;
  t.deepEqual(error.problems, [`line ${line}: /nodes/cpus: must be <= 8`]);
  const subnets = load(text.replace('"ring1": 30', '"ring1": 20')) as ValidationError;
  t.regex(subnets.problems[0]!, /^line \d+: \/network\/subnets: every network needs its own subnet number$/);
});

test('an unquoted value is reported by position without printing it', (t) => {
  const error = load(text.replace('"bmcUsername": "admin"', '"bmcUsername": S3cretPw77')) as ValidationError;
  t.true(error instanceof ValidationError);
  t.false(error.message.includes('S3cretPw77'));
  t.regex(error.message, /not valid JSON: line \d+, column \d+: expected a value .* found an unquoted word/);
});

test('/dev/zero and a FIFO as --config are refused at once', (t) => {
  const fifo = join(tempDir(), 'lab.json');
  spawnSync('mkfifo', [fifo]);
  t.throws(() => loadLabConfig('/dev/zero'), { instanceOf: ValidationError, message: '/dev/zero is invalid:\n  - cannot read this lab config: it is a character device, not a regular file' });
  t.throws(() => loadLabConfig(fifo), { instanceOf: ValidationError, message: /cannot read this lab config: it is a FIFO \(named pipe\), not a regular file/ });
});
