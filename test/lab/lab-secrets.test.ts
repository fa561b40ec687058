/** A damaged secrets.json is a clear error that never prints a secret. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLabSecrets } from '../../harness/provision/lab-secrets.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { redact } from '../../harness/core/secrets.ts';
import { tempDir } from '../helpers.ts';

function write(text: string): string {
  const file = join(tempDir(), 'secrets.json');
  writeFileSync(file, text);
  return file;
}

test('a good secrets file is read and its secrets registered', (t) => {
  const s = readLabSecrets(write(JSON.stringify({ bmcPassword: 'BmcPw-Good-1', corosyncKey: 'a2V5a2V5a2V5', accounts: { user1: 'Acct-Pw-111' } })));
  t.is(s.bmcPassword, 'BmcPw-Good-1');
  t.is(redact('BmcPw-Good-1 Acct-Pw-111'), '*** ***');
});

test('a truncated secrets file names the file and position, without the content Node would quote', (t) => {
  const text = '{"bmcPassword": "Damaged-Pw-42", "corosyncKey": "Y29yb3N5bmMta2V5LWtleQ==", "accounts": {"user1": Unquoted-Pw-9';
  const error = t.throws(() => readLabSecrets(write(text)), { instanceOf: ValidationError });
  t.regex(error!.message, /secrets\.json is invalid:\n {2}- not valid JSON: line 1, column \d+: expected a value/);
  for (const secret of ['Damaged-Pw-42', 'Y29yb3N5bmMta2V5LWtleQ', 'Unquoted-Pw-9']) t.false(error!.message.includes(secret), secret);
  let nodeMessage = '';
  try {
    JSON.parse(text);
  } catch (e) {
    nodeMessage = (e as Error).message;
  }
  t.true(nodeMessage.includes('Unquoted-P'), `JSON.parse would have printed it: ${nodeMessage}`);
});

test('a secrets file of the wrong shape names each field, with its values masked', (t) => {
  const error = t.throws(() => readLabSecrets(write(JSON.stringify({ bmcPassword: 7, corosyncKey: 'Shape-Key-77', accounts: { user1: 5 } }))), { instanceOf: ValidationError });
  t.deepEqual(error!.problems.slice(0, 2), ['/bmcPassword: must be a string of at least 3 characters', '/accounts/user1: must be a string of at least 3 characters']);
  t.is(redact('Shape-Key-77'), '***');
  t.throws(() => readLabSecrets(write('null')), { instanceOf: ValidationError, message: /\(top level\): must be an object/ });
});
