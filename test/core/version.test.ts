import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harnessVersion, headCommit } from '../../harness/core/version.ts';
import { tempDir } from '../helpers.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('the commit HEAD names: detached, a loose ref, a packed ref; nothing for a bad ref', (t) => {
  const git = tempDir();
  writeFileSync(join(git, 'HEAD'), `${A}\n`);
  t.is(headCommit(git), A);
  writeFileSync(join(git, 'HEAD'), 'ref: refs/heads/main\n');
  mkdirSync(join(git, 'refs/heads'), { recursive: true });
  writeFileSync(join(git, 'refs/heads/main'), `${B}\n`);
  t.is(headCommit(git), B);
  writeFileSync(join(git, 'HEAD'), 'ref: refs/heads/packed\n');
  writeFileSync(join(git, 'packed-refs'), `# pack-refs with: peeled\n${A} refs/heads/packed\n`);
  t.is(headCommit(git), A);
  writeFileSync(join(git, 'HEAD'), 'ref: refs/../../etc/passwd\n');
  t.is(headCommit(git), undefined);
  t.is(headCommit(join(git, 'none')), undefined);
});

test("this checkout's version: package.json's, with its commit", (t) => {
  t.regex(harnessVersion(), /^\d+\.\d+\.\d+(\+[0-9a-f]{7})?$/);
});

test("a worktree's HEAD names a ref kept in the common git directory", (t) => {
  const common = tempDir();
  const worktree = join(common, 'worktrees', 'w1');
  mkdirSync(worktree, { recursive: true });
  mkdirSync(join(common, 'refs/heads'), { recursive: true });
  writeFileSync(join(common, 'refs/heads/topic'), `${B}\n`);
  writeFileSync(join(worktree, 'HEAD'), 'ref: refs/heads/topic\n');
  writeFileSync(join(worktree, 'commondir'), '../..\n');
  t.is(headCommit(worktree), B);
});
