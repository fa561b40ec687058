import test from 'ava';
import { parseSshConfig, renderSshConfig } from '../../harness/cluster/ssh.ts';
import { recipePackages } from '../../harness/provision/recipe.ts';

const vagrantSshConfig = `Host node1
  HostName 10.213.1.143
  User vagrant
  Port 22
  UserKnownHostsFile /dev/null
  IdentityFile /x/id_ed25519

Host node2
  HostName 10.213.1.27
  User vagrant
  Port 22
`;

test('vagrant ssh-config is parsed into hosts', (t) => {
  t.deepEqual(parseSshConfig(vagrantSshConfig), [
    { name: 'node1', hostName: '10.213.1.143', port: 22, user: 'vagrant' },
    { name: 'node2', hostName: '10.213.1.27', port: 22, user: 'vagrant' },
  ]);
});

test('the lab ssh_config reuses connections and ends dead sessions within ~15 s', (t) => {
  const text = renderSshConfig(parseSshConfig(vagrantSshConfig), '/lab/id_ed25519', '/state/lab/lab');
  t.regex(text, /ServerAliveInterval 3\n {2}ServerAliveCountMax 5/);
  t.regex(text, /ControlMaster auto\n {2}ControlPath \/state\/lab\/lab\/cm-%C\n/);
  t.regex(text, /IdentityFile \/lab\/id_ed25519\n {2}IdentitiesOnly yes/);
});

test('the box recipe lists packages without comments', (t) => {
  t.deepEqual(recipePackages('# c\nsudo\n\ncorosync # the ring\n'), ['sudo', 'corosync']);
  t.true(recipePackages().includes('drbd-utils'));
});
