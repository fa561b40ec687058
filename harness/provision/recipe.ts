/**
 * The Debian recipe every node the harness builds is made from (vagrant/box/: packages.txt,
 * customize.sh, the mirrors): the lab's Vagrant box and the container lane's node image share it,
 * and its hash names what was built from it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';

/** The recipe's directory. */
export const BOX_RECIPE_DIR = join(REPO_ROOT, 'vagrant/box');

/** The Debian mirrors every recipe installs from. */
export const MIRRORS = [
  'deb http://deb.debian.org/debian bookworm main',
  'deb http://deb.debian.org/debian bookworm-updates main',
  'deb http://deb.debian.org/debian-security bookworm-security main',
];

/** The recipe's package list (comments and blanks dropped). */
export function recipePackages(text = readFileSync(join(BOX_RECIPE_DIR, 'packages.txt'), 'utf8')): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** The hash of a Debian recipe (its builder's version, packages.txt, customize.sh, the mirrors): the box's, or the container lane's node image's. */
export function hashRecipe(dir: string, builderVersion: string): string {
  const hash = createHash('sha256');
  hash.update(`builder ${builderVersion}\n`);
  for (const file of ['packages.txt', 'customize.sh']) hash.update(readFileSync(join(dir, file)));
  hash.update(MIRRORS.join('\n'));
  return hash.digest('hex').slice(0, 12);
}
