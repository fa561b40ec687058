/**
 * SSH local security: the ControlMaster socket (through which every root script travels) lives in
 * the lab's 0700 directory or a private runtime directory, never under a predictable /tmp name;
 * node host keys are pinned in the lab's own known_hosts.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { controlSocketPrefix, ensureControlDir, parseSshConfig, removeControlSockets, renderSshConfig, SOCKET_PATH_LIMIT, socketPathBytes, SshRunner, sshFiles } from '../../harness/cluster/ssh.ts';
import { tempDir } from '../helpers.ts';

const hosts = parseSshConfig('Host node1\n  HostName 10.213.1.143\n  User vagrant\n  Port 22\n\nHost node2\n  HostName 10.213.1.27\n  User vagrant\n  Port 22\n');

test('the rendered ssh_config pins host keys in the lab and keeps the control socket there', (t) => {
  const text = renderSshConfig(hosts, '/state/lab/lab/id_ed25519', '/state/lab/lab');
  t.is(
    text.split('\n\n')[0],
    `Host node1
  HostName 10.213.1.143
  Port 22
  User vagrant
  IdentityFile /state/lab/lab/id_ed25519
  IdentitiesOnly yes
  HostKeyAlias node1
  StrictHostKeyChecking accept-new
  UserKnownHostsFile /state/lab/lab/known_hosts
  GlobalKnownHostsFile /dev/null
  CheckHostIP no
  UpdateHostKeys no
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 3
  ServerAliveCountMax 5
  ControlMaster auto
  ControlPath /state/lab/lab/cm-%C
  ControlPersist 120`,
  );
  t.notRegex(text, /\/tmp\/|StrictHostKeyChecking no|UserKnownHostsFile \/dev\/null/);
});

test('OpenSSH reads the rendered config as meant (ssh -G, no connection)', (t) => {
  const dir = tempDir();
  const config = join(dir, 'ssh_config');
  writeFileSync(config, renderSshConfig(hosts, join(dir, 'id_ed25519'), dir));
  const r = spawnSync('ssh', ['-G', '-F', config, 'node2'], { encoding: 'utf8', timeout: 10_000 });
  t.is(r.status, 0, r.stderr);
  const effective = r.stdout;
  t.regex(effective, /^hostkeyalias node2$/m);
  t.regex(effective, /^stricthostkeychecking accept-new$/m);
  t.regex(effective, new RegExp(`^userknownhostsfile ${join(dir, 'known_hosts')}$`, 'm'));
  t.regex(effective, new RegExp(`^controlpath ${join(dir, 'cm-')}[0-9a-f]{40}$`, 'm'));
});

test('a lab directory too deep for a socket path falls back to a private runtime directory', (t) => {
  const shallow = sshFiles('/work/main/.state/lab/lab', '/run/user/0');
  t.false(shallow.fallback);
  t.true(socketPathBytes(shallow.controlPath) <= SOCKET_PATH_LIMIT);
  const deepDir = `/work/${'very-long-directory-name/'.repeat(4)}lab`;
  const deep = sshFiles(deepDir, '/run/user/0');
  t.true(deep.fallback);
  t.regex(deep.controlPath, /^\/run\/user\/0\/hachaos-\d+-[0-9a-f]{8}\/cm-%C$/);
  t.is(deep.knownHosts, join(deepDir, 'known_hosts'), 'the host keys stay in the lab directory');
  t.true(socketPathBytes(deep.controlPath) <= SOCKET_PATH_LIMIT);
  t.throws(() => sshFiles(deepDir, deepDir), { message: /too deep for a 104-byte socket path; set HA_CHAOS_STATE_DIR/ });
});

test('the control directory is made 0700 and refused when it is not ours (a symbolic link planted first)', (t) => {
  const root = tempDir();
  const labDir = join(root, 'lab');
  mkdirSync(labDir, { mode: 0o755 });
  const files = sshFiles(labDir, root);
  ensureControlDir(files);
  t.is(statSync(labDir).mode & 0o777, 0o700);
  const runner = SshRunner.write(join(labDir, 'ssh_config'), hosts, join(labDir, 'id_ed25519'), labDir);
  t.is(statSync(runner.configFile).mode & 0o777, 0o600);
  const planted = join(root, 'planted');
  mkdirSync(planted);
  const link = join(root, 'link');
  symlinkSync(planted, link);
  t.throws(() => ensureControlDir({ ...files, controlDir: link }), { message: /refusing .*link for SSH control sockets: it is a symbolic link/ });
});

test("lab down's cleanup removes an old lab's /tmp sockets, only sockets, only ours", async (t) => {
  const labDir = join(tempDir(), 'lab');
  const prefix = controlSocketPrefix(labDir);
  const socket = join('/tmp', `${prefix}0123456789abcdef`);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const decoy = join('/tmp', `${prefix}not-a-socket`);
  writeFileSync(decoy, 'not ours to remove');
  t.teardown(() => spawnSync('rm', ['-f', decoy, socket]));
  const removed = removeControlSockets(labDir, tempDir());
  server.close();
  t.deepEqual(removed, [socket]);
  t.false(existsSync(socket));
  t.true(lstatSync(decoy).isFile(), 'a regular file with the name is left alone');
});
