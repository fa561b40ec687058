/**
 * The harness's own version, recorded in every run (the history tells a regression of the
 * cluster from one of the harness): package.json's version and, in a git checkout, the commit,
 * read from .git without running git (`0.1.0+f436334`).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './paths.ts';

let cached: string | undefined;

/** The commit `HEAD` names in `gitDir` (a detached HEAD, or a ref, loose or packed); undefined when unreadable. */
export function headCommit(gitDir: string): string | undefined {
  try {
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref: (refs\/[A-Za-z0-9._/-]+)$/.exec(head)?.[1];
    if (!ref || ref.includes('..')) return undefined;
    // A worktree's git directory keeps HEAD; its refs are in the common directory it names.
    const dirs = [gitDir];
    try {
      dirs.push(resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim()));
    } catch {
      // not a worktree
    }
    for (const dir of dirs) {
      try {
        const loose = readFileSync(join(dir, ref), 'utf8').trim();
        if (/^[0-9a-f]{40}$/.test(loose)) return loose;
      } catch {
        // packed, or in the next directory
      }
      try {
        const packed = readFileSync(join(dir, 'packed-refs'), 'utf8');
        const found = packed.split('\n').map((l) => /^([0-9a-f]{40}) (\S+)$/.exec(l)).find((m) => m?.[2] === ref)?.[1];
        if (found) return found;
      } catch {
        // none here
      }
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** `0.1.0+<commit>`, or just the version outside a checkout. */
export function harnessVersion(): string {
  if (cached) return cached;
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  // A worktree's .git is a file naming its git directory.
  let gitDir = join(REPO_ROOT, '.git');
  try {
    const pointer = /^gitdir: (.+)$/m.exec(readFileSync(gitDir, 'utf8'))?.[1];
    if (pointer) gitDir = pointer.trim();
  } catch {
    // a directory, or no checkout
  }
  const commit = headCommit(gitDir);
  cached = commit ? `${version}+${commit.slice(0, 7)}` : version;
  return cached;
}
