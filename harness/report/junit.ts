/**
 * JUnit XML for CI: one test suite per run, one test case per check. A failed check is a
 * `<failure>`; an unknown verdict is an `<error>` (CI must not read "unknown" as a pass).
 */
import type { CheckResult } from '../check/checker.ts';
import type { RunResults } from './results.ts';

/** Escapes text for XML attributes and content. */
export function xmlEscape(text: string): string {
  return text
    // Characters XML 1.0 cannot carry at all.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function testCase(suite: string, name: string, result: CheckResult): string {
  const details = result.details ? JSON.stringify(result.details, null, 2) : '';
  const body =
    result.valid === true
      ? ''
      : result.valid === false
        ? `<failure message="${xmlEscape(result.summary)}" type="verdict-false">${xmlEscape(details)}</failure>`
        : `<error message="${xmlEscape(result.summary)}" type="verdict-unknown">${xmlEscape(details)}</error>`;
  return `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(name)}">${body}${
    result.valid === true ? `<system-out>${xmlEscape(result.summary)}</system-out>` : ''
  }</testcase>`;
}

/** Renders a run's results as a JUnit XML document. */
export function toJUnit(results: RunResults): string {
  const entries = Object.entries(results.checks);
  const failures = entries.filter(([, r]) => r.valid === false).length;
  const errors = entries.filter(([, r]) => r.valid === 'unknown').length;
  const seconds = (Date.parse(results.finishedAt) - Date.parse(results.startedAt)) / 1000;
  const suite = `ha-chaos.${results.name}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ha-chaos" tests="${entries.length}" failures="${failures}" errors="${errors}" time="${seconds.toFixed(3)}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${entries.length}" failures="${failures}" errors="${errors}" time="${seconds.toFixed(3)}" timestamp="${xmlEscape(results.startedAt)}">`,
    '    <properties>',
    `      <property name="runId" value="${xmlEscape(results.runId)}"/>`,
    `      <property name="seed" value="${results.seed}"/>`,
    '    </properties>',
    ...entries.map(([name, r]) => testCase(suite, name, r)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
