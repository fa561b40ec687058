/** Input files: only regular files within a size limit, refused at once otherwise (issue: /dev/zero read 1.1 GiB, a FIFO hung). */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInputFile, UnreadableInputError } from '../../harness/core/input-file.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { tempDir } from '../helpers.ts';

const options = { maxBytes: 1024, what: 'scenario file' };

function refusal(file: string, maxBytes = 1024): UnreadableInputError {
  const started = performance.now();
  try {
    readInputFile(file, { ...options, maxBytes });
  } catch (error) {
    if (!(error instanceof UnreadableInputError)) throw error;
    if (performance.now() - started > 1000) throw new Error(`refusing ${file} took ${performance.now() - started} ms`, { cause: error });
    return error;
  }
  throw new Error(`${file} was read`);
}

test('a regular file is read as text, without its byte-order mark', (t) => {
  const file = join(tempDir(), 'a.yaml');
  writeFileSync(file, '\uFEFFname: x\n');
  t.is(readInputFile(file, options), 'name: x\n');
});

test('/dev/zero, a FIFO, a directory and /dev/null-like devices are refused at once, naming the file', (t) => {
  const dir = tempDir();
  const fifo = join(dir, 'fifo');
  t.is(spawnSync('mkfifo', [fifo]).status, 0);
  const zero = refusal('/dev/zero');
  t.is(zero.reason, 'not-regular');
  t.is(zero.message, '/dev/zero is invalid:\n  - cannot read this scenario file: it is a character device, not a regular file');
  t.true(zero instanceof ValidationError, 'exit code 2');
  t.regex(refusal(fifo).message, /fifo is invalid:\n {2}- cannot read this scenario file: it is a FIFO \(named pipe\), not a regular file$/);
  t.regex(refusal(dir).message, /cannot read this scenario file: it is a directory, not a regular file$/);
});

test('a file over the limit, a missing file, a file with NUL bytes or bad UTF-8', (t) => {
  const dir = tempDir();
  const big = join(dir, 'big');
  writeFileSync(big, 'x'.repeat(2000));
  t.like(refusal(big), { reason: 'too-large', message: `${big} is invalid:\n  - cannot read this scenario file: it is larger than the limit of 1024 bytes` });
  t.like(refusal(join(dir, 'nope')), { reason: 'missing', message: `${join(dir, 'nope')} is invalid:\n  - cannot read this scenario file: it does not exist` });
  mkdirSync(join(dir, 'd'));
  t.like(refusal(join(dir, 'd', 'x', 'y')), { reason: 'missing' });
  const nul = join(dir, 'nul');
  writeFileSync(nul, 'a\0b');
  t.like(refusal(nul), { reason: 'not-text' });
  const latin = join(dir, 'latin1');
  writeFileSync(latin, Buffer.from([0x61, 0xe9, 0x0a]));
  t.regex(refusal(latin).message, /it is not UTF-8 text$/);
});
