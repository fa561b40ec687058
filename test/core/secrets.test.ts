/** The redactor masks a secret in the forms it takes when escaped on its way out. */
import test from 'ava';
import { containsSecret, escapedForms, redact, registerSecret } from '../../harness/core/secrets.ts';

test('a registered secret is masked raw and JSON-escaped, URL-encoded, HTML-escaped and shell-quoted', (t) => {
  const secret = registerSecret('p"w&<it\'s>/+ %x\\1');
  t.is(redact(`raw ${secret} end`), 'raw *** end');
  t.is(redact(JSON.stringify({ password: secret })), '{"password":"***"}');
  t.is(redact(JSON.stringify({ error: JSON.stringify({ password: secret }) })), '{"error":"{\\"password\\":\\"***\\"}"}', 'JSON inside JSON');
  t.is(redact(`https://h/?pw=${encodeURIComponent(secret)}`), 'https://h/?pw=***');
  t.is(redact(`https://h/?pw=${encodeURIComponent(secret).toLowerCase()}`), 'https://h/?pw=***', 'lower-case percent escapes');
  t.is(redact(`<p>${secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</p>`), '<p>***</p>');
  t.is(redact(`echo '${secret.replace(/'/g, `'\\''`)}'`), "echo '***'");
  t.true(containsSecret(`x${encodeURIComponent(secret)}x`));
});

test('extra secrets get the same forms; a secret inside a longer one masks the longer whole', (t) => {
  t.is(redact('a%2Fb%3D', ['a/b=']), '***');
  registerSecret('inner-secret');
  registerSecret('outer-inner-secret-x');
  t.is(redact('outer-inner-secret-x and inner-secret'), '*** and ***');
  t.deepEqual(escapedForms('plain'), ['plain']);
});
