/**
 * `ha-chaos lane ...`: the container lane's housekeeping. A lane lives for one certification
 * (`certify --lane containers` makes it and removes it); these commands build its image ahead,
 * remove a lane a killed run left, and stop the dockerd the harness started.
 */
import { Command } from 'commander';
import { rootLogger } from '../core/log.ts';
import { loadLabConfig } from '../cluster/lab-config.ts';
import { DEFAULT_LANE_CONFIG, downLane, reapLanes } from '../lane/container-lane.ts';
import { ensureDockerd, stopOurDockerd } from '../lane/docker-host.ts';
import { ensureImage } from '../lane/node-image.ts';

export function laneCommand(): Command {
  const lane = new Command('lane').description('the container lane: the lab cluster in two containers on this host (see certify --lane containers)');
  lane
    .command('image')
    .description('build the node image from Debian packages if its recipe (containers/node/) changed; --force rebuilds it')
    .option('--force', 'rebuild even if the image is current')
    .action(async (flags: { force?: boolean }) => {
      const log = rootLogger();
      await ensureDockerd(log);
      const image = await ensureImage({ log, force: flags.force });
      process.stdout.write(`${image.tag} ${image.built ? `built in ${image.seconds} s` : 'up to date'}\n`);
    });
  lane
    .command('down')
    .description("remove the lane: its containers, networks, virtual BMCs, loop device and state; --dockerd also stops the dockerd the harness started")
    .option('--config <file>', 'lane config', DEFAULT_LANE_CONFIG)
    .option('--dockerd', 'also stop the dockerd the harness started (never one it did not start)')
    .action(async (flags: { config: string; dockerd?: boolean }) => {
      const log = rootLogger();
      const report = await downLane(loadLabConfig(flags.config).name, log);
      process.stdout.write(`removed ${report.containers.length} containers, ${report.networks.length} networks, ${report.bmcs.length} BMCs, ${report.loopDevices.length} loop devices${report.stateDir ? ', the state directory' : ''}\n`);
      if (flags.dockerd) process.stdout.write((await stopOurDockerd(log)) ? 'stopped the dockerd the harness started\n' : 'no dockerd of the harness runs\n');
    });
  lane
    .command('reap')
    .description('remove every lane whose owning process is gone (a killed or crashed run), by their labels')
    .action(async () => {
      const reaped = await reapLanes(rootLogger());
      process.stdout.write(reaped.length ? `reaped: ${reaped.join(', ')}\n` : 'nothing to reap\n');
    });
  return lane;
}
