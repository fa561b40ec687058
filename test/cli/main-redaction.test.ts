/** main() prints error messages through the redactor (issue: it printed error.message as it was). */
import test from 'ava';
import { main } from '../../harness/cli/main.ts';
import { registerSecret } from '../../harness/core/secrets.ts';

test('a registered secret in an error message is masked on stderr, in its escaped forms too', async (t) => {
  const secret = registerSecret('Main-Secret/Pw+9');
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
  let code: number;
  try {
    // The run directory's path carries the secret, raw and URL-encoded (safe path characters only: % is refused): the message quotes the path.
    code = await main(['node', 'ha-chaos', 'report', `/nonexistent/${secret}/${secret.replace('/', '')}`]);
  } finally {
    process.stderr.write = original;
  }
  t.is(code, 2);
  t.is(written.join(''), 'ha-chaos: /nonexistent/***/Main-SecretPw+9: not a run directory (it does not exist; expected results.json or run.json in it)\n');
});
