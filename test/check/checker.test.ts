import test from 'ava';
import { compose, worse, type Checker } from '../../harness/check/checker.ts';

const input = { scenario: {}, history: [], observations: {} };
const fixed = (name: string, valid: true | false | 'unknown'): Checker => ({ name, check: () => ({ valid, summary: `${name} says ${String(valid)}` }) });

test('worse: false beats unknown beats true', (t) => {
  t.is(worse(true, true), true);
  t.is(worse(true, 'unknown'), 'unknown');
  t.is(worse('unknown', true), 'unknown');
  t.is(worse('unknown', false), false);
  t.is(worse(false, true), false);
});

test('compose: all true passes', (t) => {
  const result = compose('all', [fixed('a', true), fixed('b', true)]).check(input);
  t.is(result.valid, true);
  t.is(result.summary, 'all 2 checks passed');
  t.is(result.results?.a?.valid, true);
});

test('compose: the worst verdict wins', (t) => {
  t.is(compose('x', [fixed('a', true), fixed('b', 'unknown')]).check(input).valid, 'unknown');
  const result = compose('x', [fixed('a', 'unknown'), fixed('b', false), fixed('c', true)]).check(input);
  t.is(result.valid, false);
  t.is(result.summary, 'a: UNKNOWN (a says unknown); b: FAILED (b says false)');
});

test('compose: a checker that throws yields unknown, never a pass', (t) => {
  const crashing: Checker = {
    name: 'crashy',
    check: () => {
      throw new Error('index out of range');
    },
  };
  const result = compose('x', [fixed('a', true), crashing]).check(input);
  t.is(result.valid, 'unknown');
  t.is(result.results?.crashy?.summary, 'checker crashy crashed: index out of range');
});

test('compose: a checker returning a non-verdict yields unknown', (t) => {
  const sloppy = { name: 'sloppy', check: () => ({ valid: 'yes' as unknown as true, summary: '' }) };
  t.is(compose('x', [sloppy]).check(input).valid, 'unknown');
});

test('compose: no checkers proves nothing', (t) => {
  t.is(compose('x', []).check(input).valid, 'unknown');
});

test('compose: duplicate names are refused', (t) => {
  t.throws(() => compose('x', [fixed('a', true), fixed('a', true)]), { message: /two checkers are named a/ });
});
