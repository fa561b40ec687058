/**
 * The lab's client connectivity agent, run for real (bash) on the host with a recording
 * attrd_updater and a stand-in ping: the attribute follows the gateway, and is written only
 * when it changes (and every 6th monitor), never on every monitor as ocf:pacemaker:ping does.
 */
import test from 'ava';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { renderClientPingAgent } from '../../harness/provision/cluster-files.ts';
import { tempDir } from '../helpers.ts';

function setup() {
  const dir = tempDir();
  const agent = join(dir, 'clientping');
  writeFileSync(agent, renderClientPingAgent(), { mode: 0o755 });
  writeFileSync(join(dir, 'attrd'), `#!/bin/sh\necho "$*" >> ${join(dir, 'calls')}\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'ping'), `#!/bin/sh\n[ -f ${join(dir, 'down')} ] && exit 1; exit 0\n`, { mode: 0o755 });
  // The CIB's value for this node: the file's content, or none (crm_attribute -G fails) when it is missing.
  writeFileSync(join(dir, 'crm_attribute'), `#!/bin/sh\necho "crm_attribute $*" >> ${join(dir, 'calls')}\n[ -f ${join(dir, 'cib')} ] || exit 105\ncat ${join(dir, 'cib')}\n`, { mode: 0o755 });
  const env = { HACHAOS_STATE_DIR: dir, HACHAOS_ATTRD_UPDATER: join(dir, 'attrd'), HACHAOS_PING: join(dir, 'ping'), HACHAOS_CRM_ATTRIBUTE: join(dir, 'crm_attribute'), OCF_RESKEY_host_list: '10.213.10.1', OCF_RESOURCE_INSTANCE: 'client_ping:0', OCF_RESKEY_CRM_meta_on_node: 'node2' };
  const action = async (name: string) => (await run(agent, [name], { timeoutMs: 20_000, reject: false, env })).exitCode;
  const calls = () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []);
  return { dir, action, calls };
}

test('start writes the attribute; monitors write it again only when the gateway stops or starts answering', async (t) => {
  const { dir, action, calls } = setup();
  t.is(await action('monitor'), 7, 'not running before start');
  t.is(await action('start'), 0);
  t.deepEqual(calls(), ['-n pingd -U 1000 -d 5s']);
  t.is(await action('monitor'), 0);
  t.is(await action('monitor'), 0);
  t.is(calls().length, 1, 'unchanged: no attrd_updater');
  writeFileSync(join(dir, 'down'), '');
  t.is(await action('monitor'), 0, 'the monitor succeeds: the attribute carries the news');
  t.deepEqual(calls().at(-1), '-n pingd -U 0 -d 5s');
  writeFileSync(join(dir, 'cib'), '0\n');
  for (let i = 0; i < 6; i++) await action('monitor');
  t.deepEqual(calls().slice(2), ['crm_attribute -t status -N node2 -n pingd -G -q'], 'read back once within six monitors; the CIB has it: nothing written');
  t.is(await action('stop'), 0);
  t.deepEqual(calls().at(-1), '-D -n pingd -d 5s');
  t.is(await action('monitor'), 7);
});

test('meta-data and validation', async (t) => {
  const { action } = setup();
  t.is(await action('validate-all'), 0);
  const agent = join(tempDir(), 'clientping');
  writeFileSync(agent, renderClientPingAgent(), { mode: 0o755 });
  t.is((await run(agent, ['start'], { timeoutMs: 10_000, reject: false, env: { OCF_RESKEY_host_list: '' } })).exitCode, 6, 'no host_list: not configured');
  t.regex((await run(agent, ['meta-data'], { timeoutMs: 10_000 })).stdout, /<resource-agent name="clientping"/);
});

test('an attribute the CIB lost while attrd kept it (a controller respawn) is written again within six monitors: attrd_updater --refresh', async (t) => {
  const { dir, action, calls } = setup();
  t.is(await action('start'), 0);
  // The CIB never got it, or lost it: crm_attribute finds none.
  for (let i = 0; i < 6; i++) await action('monitor');
  t.deepEqual(calls(), ['-n pingd -U 1000 -d 5s', 'crm_attribute -t status -N node2 -n pingd -G -q', '--refresh']);
  // A CIB holding another value than the one measured is refreshed too.
  writeFileSync(join(dir, 'cib'), '0\n');
  for (let i = 0; i < 6; i++) await action('monitor');
  t.deepEqual(calls().slice(3), ['crm_attribute -t status -N node2 -n pingd -G -q', '--refresh']);
  writeFileSync(join(dir, 'cib'), '1000\n');
  for (let i = 0; i < 6; i++) await action('monitor');
  t.deepEqual(calls().slice(5), ['crm_attribute -t status -N node2 -n pingd -G -q'], 'in the CIB again: nothing written');
});
