/** The fault kinds are defined once (FAULT_KINDS); the catalogue and the scenario schema follow it. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { FAULT_KINDS } from '../../harness/scenario/scenario.ts';
import { faultFor } from '../../harness/faults/catalog.ts';

test('the scenario schema lists exactly the fault kinds, in their order', (t) => {
  const schema = JSON.parse(readFileSync('schemas/scenario.schema.json', 'utf8')) as { properties: { fault: { enum: string[] } } };
  t.deepEqual(schema.properties.fault.enum, [...FAULT_KINDS]);
});

test('every fault kind has its implementation, under its own name; an unknown kind is refused by name', (t) => {
  for (const kind of FAULT_KINDS) t.is(faultFor(kind).kind, kind);
  t.throws(() => faultFor('no-such-fault' as never), { message: /no fault no-such-fault \(there are: power-cut-active, / });
});
