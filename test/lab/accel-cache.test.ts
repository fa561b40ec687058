/** A damaged accelerator cache in the state directory is no cache (it was a SyntaxError, exit 4, for every lab command). */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knownAccel } from '../../harness/lab/host.ts';
import { tempDir } from '../helpers.ts';

test('knownAccel reads the cache, and treats a damaged one as unknown', (t) => {
  const state = tempDir();
  const before = process.env.HA_CHAOS_STATE_DIR;
  process.env.HA_CHAOS_STATE_DIR = state;
  t.teardown(() => {
    if (before === undefined) delete process.env.HA_CHAOS_STATE_DIR;
    else process.env.HA_CHAOS_STATE_DIR = before;
  });
  t.is(knownAccel(), undefined);
  writeFileSync(join(state, 'accel.json'), '{"accel": "tcg"}');
  t.is(knownAccel(), 'tcg');
  for (const damaged of ['', '{"accel": "tcg"', 'null', '{"accel": "xen"}', '{"accel": tcg}']) {
    writeFileSync(join(state, 'accel.json'), damaged);
    t.is(knownAccel(), undefined, damaged);
  }
});
