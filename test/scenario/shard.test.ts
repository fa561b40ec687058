import test from 'ava';
import { assignShards, parseShard, scenariosOfShard, shardFromEnv } from '../../harness/scenario/shard.ts';
import { FAULT_KINDS } from '../../harness/scenario/scenario.ts';

const NAMES = [...FAULT_KINDS];

test('i/n parses; anything else is named with the fix', (t) => {
  t.deepEqual(parseShard('2/4'), { index: 2, total: 4 });
  t.deepEqual(parseShard(' 1/1 '), { index: 1, total: 1 });
  t.is(parseShard('0/4'), 'shard 0 of 4: the index runs from 1 to 4');
  t.is(parseShard('5/4'), 'shard 5 of 4: the index runs from 1 to 4');
  t.is(parseShard('1/0'), '0 shards: from 1 to 64');
  t.is(parseShard('1/65'), '65 shards: from 1 to 64');
  t.regex(parseShard('two of four') as string, /is not i\/n/);
  t.regex(parseShard('1/4; rm -rf /') as string, /is not i\/n/);
});

test("GitLab's CI_NODE_INDEX/CI_NODE_TOTAL when no flag: both or neither", (t) => {
  t.is(shardFromEnv({}), undefined);
  t.deepEqual(shardFromEnv({ CI_NODE_INDEX: '3', CI_NODE_TOTAL: '4' }), { index: 3, total: 4 });
  t.regex(shardFromEnv({ CI_NODE_INDEX: '3' }) as string, /only CI_NODE_INDEX is set/);
  t.regex(shardFromEnv({ CI_NODE_INDEX: '5', CI_NODE_TOTAL: '4' }) as string, /^CI_NODE_INDEX=5 CI_NODE_TOTAL=4: shard 5 of 4/);
});

test('every scenario lands on exactly one shard, for any number of shards', (t) => {
  for (let total = 1; total <= 25; total++) {
    const shards = Array.from({ length: total }, (_, i) => scenariosOfShard(NAMES, { index: i + 1, total }));
    t.deepEqual(shards.flat().sort(), [...NAMES].sort(), `${total} shards`);
    t.true(shards.every((s) => new Set(s).size === s.length));
  }
});

test('without durations: the catalogue dealt out in turn (balanced by count, deterministic)', (t) => {
  t.deepEqual(scenariosOfShard(['a', 'b', 'c', 'd', 'e'], { index: 1, total: 2 }), ['a', 'c', 'e']);
  t.deepEqual(scenariosOfShard(['a', 'b', 'c', 'd', 'e'], { index: 2, total: 2 }), ['b', 'd']);
  const counts = Array.from({ length: 4 }, (_, i) => scenariosOfShard(NAMES, { index: i + 1, total: 4 }).length);
  t.true(Math.max(...counts) - Math.min(...counts) <= 1, counts.join(' '));
  t.deepEqual(assignShards(NAMES, 4), assignShards(NAMES, 4), 'the same on every host');
});

test('with recorded durations: longest first, each to the least loaded shard; unknown ones weigh the median', (t) => {
  // 10 + 1 + 1 + 1 on two shards: the long one alone, the three short ones together.
  t.deepEqual(assignShards(['a', 'b', 'c', 'd'], 2, { a: 1, b: 10, c: 1, d: 1 }), { b: 1, a: 2, c: 2, d: 2 });
  // Literal: recorded minutes of five scenarios on three shards; loads 9 / 8 / 8 (the best possible).
  const durations = { p: 5, q: 4, r: 4, s: 4, u: 8 };
  const assigned = assignShards(['p', 'q', 'r', 's', 'u'], 3, durations);
  const loads = [1, 2, 3].map((i) => Object.entries(assigned).filter(([, s]) => s === i).reduce((sum, [n]) => sum + durations[n as keyof typeof durations], 0));
  t.deepEqual(loads.sort((a, b) => b - a), [9, 8, 8]);
  // One without a recorded duration counts as the median (4).
  t.deepEqual(assignShards(['x', 'y', 'z'], 2, { x: 10, y: 4 }), { x: 1, y: 2, z: 2 });
  // Bad recorded values (0, NaN, negative) count as unknown.
  t.deepEqual(assignShards(['a', 'b'], 2, { a: Number.NaN, b: -3 }), { a: 1, b: 2 });
});
