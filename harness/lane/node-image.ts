/**
 * The container lane's node image, built here from Debian 12 packages (no registry is reachable,
 * and none is wanted: the image is what the recipe says, nothing pulled): the recipe in
 * containers/node/ (packages.txt, customize.sh) goes through mmdebstrap into a root file system
 * tarball, which `docker import` makes an image whose command is systemd. Its tag carries a hash of
 * the recipe, as the lab's box does, so it is rebuilt exactly when the recipe changes.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../core/exec.ts';
import type { Logger } from '../core/log.ts';
import { REPO_ROOT, stateRoot, ensureStateDir } from '../core/paths.ts';
import { withProgress } from '../core/progress.ts';
import { hashRecipe, MIRRORS, recipePackages } from '../provision/recipe.ts';
import { docker } from './docker-host.ts';
import { writePrivateFile } from '../core/host-files.ts';

/** Bumped when the build steps below change in a way that changes the image. */
const BUILDER_VERSION = '1';
const RECIPE_DIR = join(REPO_ROOT, 'containers/node');
export const IMAGE_REPOSITORY = 'ha-chaos/node';
/** Every image, container, network the lane makes carries this label (the reaper's handle). */
export const LANE_LABEL = 'io.ha-chaos.lane';

/** The recipe's hash: everything that decides the image's content. */
export function imageRecipeHash(): string {
  return hashRecipe(RECIPE_DIR, BUILDER_VERSION);
}

export function imageTag(hash = imageRecipeHash()): string {
  return `${IMAGE_REPOSITORY}:${hash}`;
}

/** What ensureImage did, for the benchmark and the log. */
export interface ImageBuild {
  tag: string;
  built: boolean;
  seconds: number;
}

/** Returns the current image, building it first if the recipe changed or it is missing. */
export async function ensureImage(options: { log: Logger; force?: boolean }): Promise<ImageBuild> {
  const log = options.log.child('image');
  const tag = imageTag();
  const started = performance.now();
  const seconds = () => Number(((performance.now() - started) / 1000).toFixed(1));
  if (!options.force && (await docker(['image', 'inspect', tag], { log, reject: false, timeoutMs: 30_000 })).ok) {
    log.info(`image ${tag} is up to date (recipe hash ${tag.split(':')[1]})`);
    return { tag, built: false, seconds: seconds() };
  }
  const work = join(stateRoot(), 'image-build', tag.split(':')[1]!);
  const tarball = join(work, 'rootfs.tar');
  // A root file system built for this recipe whose import failed is kept for the next try.
  const complete = join(work, 'rootfs.complete');
  ensureStateDir(work);
  const common = { log, phase: 'image build', node: 'host' };
  const packages = recipePackages(readFileSync(join(RECIPE_DIR, 'packages.txt'), 'utf8'));
  if (!existsSync(complete)) {
    rmSync(tarball, { force: true });
    await withProgress(log, `mmdebstrap: Debian 12 with ${packages.length} packages, for the node image`, () =>
      run('mmdebstrap', ['--mode=root', '--variant=apt', `--include=${packages.join(',')}`, `--customize-hook=${join(RECIPE_DIR, 'customize.sh')} "$1"`, 'bookworm', tarball, ...MIRRORS], {
        ...common,
        timeoutMs: 20 * 60_000,
        env: { DEBIAN_FRONTEND: 'noninteractive' },
      }),
    );
    writePrivateFile(complete, `${new Date().toISOString()}\n`);
  }
  await withProgress(log, `docker import -> ${tag}`, () =>
      docker(['import', '--change', 'CMD ["/sbin/init"]', '--change', 'ENV container=docker', '--change', `LABEL ${LANE_LABEL}=image`, tarball, tag], { log, timeoutMs: 10 * 60_000, phase: 'image build' }),
    );
  rmSync(work, { recursive: true, force: true });
  await pruneOldImages(tag, log);
  log.info(`image ${tag} built in ${seconds()} s`);
  return { tag, built: true, seconds: seconds() };
}

/** Removes node images of older recipes (no container of the lane still uses them: docker refuses those). */
async function pruneOldImages(current: string, log: Logger): Promise<void> {
  const list = await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', IMAGE_REPOSITORY], { log, reject: false });
  for (const image of list.stdout.split('\n').map((l) => l.trim()).filter((l) => l && l !== current)) {
    const r = await docker(['image', 'rm', image], { log, reject: false });
    if (r.ok) log.info(`removed the old node image ${image}`);
  }
}
