import test from 'ava';
import { SeededRandom } from '../../harness/core/random.ts';

test('the same seed gives the same draws; another seed other draws', (t) => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const draws = Array.from({ length: 5 }, () => a.next());
  t.deepEqual(Array.from({ length: 5 }, () => b.next()), draws);
  t.notDeepEqual(Array.from({ length: 5 }, () => new SeededRandom(43).next()), draws);
  t.true(draws.every((d) => d >= 0 && d < 1));
});

test('the first draws of seed 1 are pinned: changing the generator would silently change the replay of every recorded run', (t) => {
  const r = new SeededRandom(1);
  t.deepEqual(Array.from({ length: 3 }, () => r.next().toFixed(8)), ['0.62707394', '0.00273572', '0.52744704']);
});

test('integers stay in range and cover it; forks are independent of each other and of the parent', (t) => {
  const r = new SeededRandom(7);
  const seen = new Set(Array.from({ length: 200 }, () => r.int(4)));
  t.deepEqual([...seen].sort(), [0, 1, 2, 3]);
  const parent = new SeededRandom(7);
  const w1 = parent.fork('workload').next();
  parent.next();
  t.is(parent.fork('workload').next(), w1, 'a fork does not depend on how much the parent drew');
  t.not(parent.fork('schedule').next(), w1);
});
