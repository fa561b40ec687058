/**
 * The lab's Vagrant box, built here from Debian 12 packages (no box can be downloaded): the
 * recipe in vagrant/box/ (packages.txt, customize.sh) goes through mmdebstrap into a root file
 * system, which becomes an ext4 image (mke2fs -d, no loop devices), a qcow2, and a libvirt box.
 * The box's name carries a hash of the recipe, so it is rebuilt exactly when the recipe changes.
 * Its kernel and initrd are copied out for direct kernel boot (no bootloader).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../core/exec.ts';
import { virsh } from './host.ts';
import type { Logger } from '../core/log.ts';
import { stateRoot } from '../core/paths.ts';
import { withProgress } from '../core/progress.ts';
import { BOX_RECIPE_DIR, hashRecipe, MIRRORS, recipePackages } from '../provision/recipe.ts';

/** Bumped when the build steps below change in a way that changes the box. */
const BUILDER_VERSION = '1';
const RECIPE_DIR = BOX_RECIPE_DIR;
/** Where libvirt's QEMU can read the kernels (world-readable). */
export const BOOT_ROOT = '/var/lib/libvirt/boot';
/** A built box, ready for `vagrant up`. */
export interface Box {
  name: string;
  hash: string;
  kernel: string;
  initrd: string;
}

/** The hash of everything that decides the box's content. */
export function recipeHash(): string {
  return hashRecipe(RECIPE_DIR, BUILDER_VERSION);
}

export function boxFor(hash = recipeHash()): Box {
  const boot = join(BOOT_ROOT, `ha-chaos-${hash}`);
  return { name: `ha-chaos/debian12-${hash}`, hash, kernel: join(boot, 'vmlinuz'), initrd: join(boot, 'initrd.img') };
}

/** True when Vagrant has the box and its kernel is in place. */
export async function boxIsReady(box: Box, log: Logger): Promise<boolean> {
  if (!existsSync(box.kernel) || !existsSync(box.initrd)) return false;
  const list = await run('vagrant', ['box', 'list', '--machine-readable'], { timeoutMs: 60_000, phase: 'box list', log });
  return list.stdout.split('\n').some((line) => line.split(',')[3] === box.name);
}

/** Returns the current box, building it first if the recipe changed or it is missing. */
export async function ensureBox(options: { log: Logger; signal?: AbortSignal; force?: boolean }): Promise<Box> {
  const log = options.log.child('box');
  const box = boxFor();
  if (!options.force && (await boxIsReady(box, log))) {
    log.info(`box ${box.name} is up to date (recipe hash ${box.hash})`);
    return box;
  }
  const work = join(stateRoot(), 'box-build', box.hash);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  const common = { log, signal: options.signal, phase: 'box build', node: 'host' };
  try {
    await withProgress(log, `mmdebstrap: Debian 12 with ${recipePackages().length} packages`, async () => {
      const result = await run(
        'mmdebstrap',
        [
          '--mode=root',
          '--variant=apt',
          `--include=${recipePackages().join(',')}`,
          `--customize-hook=${join(RECIPE_DIR, 'customize.sh')} "$1"`,
          'bookworm',
          `${rootfs}/`,
          ...MIRRORS,
        ],
        { ...common, timeoutMs: 20 * 60_000, env: { DEBIAN_FRONTEND: 'noninteractive' } },
      );
      writeFileSync(join(work, 'mmdebstrap.log'), `${result.stdout}\n${result.stderr}`);
    });

    const boot = join(rootfs, 'boot');
    const kernel = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
    const initrd = readdirSync(boot).find((f) => f.startsWith('initrd.img-'));
    if (!kernel || !initrd) throw new Error(`box build: no kernel or initrd in ${boot} (is linux-image-amd64 in packages.txt?)`);
    mkdirSync(join(BOOT_ROOT, `ha-chaos-${box.hash}`), { recursive: true });
    copyFileSync(join(boot, kernel), box.kernel);
    copyFileSync(join(boot, initrd), box.initrd);
    chmodSync(box.kernel, 0o644);
    chmodSync(box.initrd, 0o644);

    const raw = join(work, 'box.raw');
    await withProgress(log, 'ext4 image from the root file system', () =>
      run('mke2fs', ['-q', '-t', 'ext4', '-L', 'root', '-d', rootfs, '-F', raw, '4G'], { ...common, timeoutMs: 10 * 60_000 }),
    );
    rmSync(rootfs, { recursive: true, force: true });
    await withProgress(log, 'qcow2 image', () => run('qemu-img', ['convert', '-O', 'qcow2', raw, join(work, 'box.img')], { ...common, timeoutMs: 10 * 60_000 }));
    rmSync(raw, { force: true });
    writeFileSync(join(work, 'metadata.json'), JSON.stringify({ provider: 'libvirt', format: 'qcow2', virtual_size: 4 }));
    writeFileSync(join(work, 'Vagrantfile'), 'Vagrant.configure("2") { |c| c.vm.synced_folder ".", "/vagrant", disabled: true }\n');
    const boxFile = join(work, 'ha-chaos.box');
    await run('tar', ['-cf', boxFile, '-C', work, 'metadata.json', 'Vagrantfile', 'box.img'], { ...common, timeoutMs: 10 * 60_000 });
    rmSync(join(work, 'box.img'), { force: true });
    await withProgress(log, `vagrant box add ${box.name}`, () =>
      run('vagrant', ['box', 'add', '--force', '--name', box.name, boxFile], { ...common, timeoutMs: 10 * 60_000 }),
    );
    log.info(`box ${box.name} built`);
    await pruneOldBoxes(box, log);
    return box;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Removes boxes of older recipes: Vagrant's copy, the volume vagrant-libvirt uploaded to the
 * default pool, and the kernel directory. Boxes cost ~1 GB each; without this they pile up.
 */
export async function pruneOldBoxes(current: Box, log: Logger): Promise<string[]> {
  const removed: string[] = [];
  // A box a defined domain still boots from stays (its kernel, its backing volume): removing it
  // under a running lab made the next fence's power-on fail (`virsh start`: no kernel), seen here
  // when the recipe changed while a lab was up. It goes with a later prune, after `lab down`.
  const inUse = await boxesInUse(log);
  if (inUse.size) log.info(`keeping boxes still used by defined VMs: ${[...inUse].join(', ')}`);
  const keep = (hash: string) => hash === current.hash || inUse.has(hash);
  const list = await run('vagrant', ['box', 'list', '--machine-readable'], { timeoutMs: 60_000, log, reject: false });
  const names = new Set(list.stdout.split('\n').map((l) => l.split(',')[3] ?? '').filter((n) => n.startsWith('ha-chaos/debian12-') && !keep(n.slice('ha-chaos/debian12-'.length))));
  for (const name of names) {
    await run('vagrant', ['box', 'remove', '--force', '--all', name], { timeoutMs: 120_000, log, reject: false });
    removed.push(name);
  }
  const vols = await virsh(['vol-list', 'default'], { timeoutMs: 60_000, log, reject: false });
  for (const vol of vols.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '')) {
    const hash = /debian12-([0-9a-f]{12})/.exec(vol)?.[1];
    if (vol.startsWith('ha-chaos-VAGRANTSLASH-debian12-') && hash && !keep(hash)) {
      await virsh(['vol-delete', '--pool', 'default', vol], { timeoutMs: 60_000, log, reject: false });
      removed.push(vol);
    }
  }
  if (existsSync(BOOT_ROOT)) {
    for (const dir of readdirSync(BOOT_ROOT)) {
      if (/^ha-chaos-[0-9a-f]{12}$/.test(dir) && !keep(dir.slice('ha-chaos-'.length))) {
        rmSync(join(BOOT_ROOT, dir), { recursive: true, force: true });
        removed.push(join(BOOT_ROOT, dir));
      }
    }
  }
  if (removed.length) log.info(`removed old boxes: ${removed.join(', ')}`);
  return removed;
}

/** The box hashes whose kernel a defined libvirt domain (running or not) boots. */
async function boxesInUse(log: Logger): Promise<Set<string>> {
  const hashes = new Set<string>();
  const domains = await virsh(['list', '--all', '--name'], { timeoutMs: 30_000, log, reject: false });
  for (const domain of domains.stdout.split('\n').map((d) => d.trim()).filter(Boolean)) {
    const xml = await virsh(['dumpxml', domain], { timeoutMs: 30_000, log, reject: false });
    for (const m of xml.stdout.matchAll(new RegExp(`${BOOT_ROOT}/ha-chaos-([0-9a-f]{12})/`, 'g'))) hashes.add(m[1]!);
  }
  return hashes;
}
