/**
 * The layering rule (.dependency-cruiser.cjs) on the real tree and on a sabotaged one: a rule that
 * has never failed proves nothing, so the fixture breaks each rule once (a cycle, an arrow that
 * points up, a folder without a layer) and every break must be reported by its rule's name.
 */
import test from 'ava';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from '../../harness/core/paths.ts';

const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(REPO_ROOT, 'node_modules/.bin/depcruise');

async function cruise(cwd: string): Promise<{ exitCode: number; violations: string[] }> {
  const r = await execa(DEPCRUISE, ['harness', '--config', CONFIG, '--output-type', 'err'], { cwd, reject: false, timeout: 120_000 });
  const violations = [...`${r.stdout}\n${r.stderr}`.matchAll(/error (\S+): (\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
  return { exitCode: r.exitCode ?? -1, violations };
}

test('the harness keeps its layers: no cycle, no arrow up, every folder placed', async (t) => {
  const r = await cruise(REPO_ROOT);
  t.deepEqual(r.violations, []);
  t.is(r.exitCode, 0);
});

test('a sabotaged tree trips each rule by name', async (t) => {
  const r = await cruise(join(REPO_ROOT, 'test/fixtures/layering'));
  t.not(r.exitCode, 0);
  t.deepEqual(r.violations.sort(), [
    'known-folders harness/lab/high.ts',
    'layer-cluster harness/cluster/low.ts',
    'no-circular harness/cluster/low.ts',
  ]);
});
