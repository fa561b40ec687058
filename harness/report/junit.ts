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

function counts(results: RunResults): { tests: number; failures: number; errors: number; seconds: number } {
  const entries = Object.values(results.checks);
  return {
    tests: entries.length,
    failures: entries.filter((r) => r.valid === false).length,
    errors: entries.filter((r) => r.valid === 'unknown').length,
    seconds: (Date.parse(results.finishedAt) - Date.parse(results.startedAt)) / 1000,
  };
}

/** One run as a `<testsuite>`: one test case per check. */
function suiteXml(results: RunResults): string[] {
  const { tests, failures, errors, seconds } = counts(results);
  const suite = `ha-chaos.${results.name}`;
  return [
    `  <testsuite name="${xmlEscape(suite)}" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds.toFixed(3)}" timestamp="${xmlEscape(results.startedAt)}">`,
    '    <properties>',
    `      <property name="runId" value="${xmlEscape(results.runId)}"/>`,
    `      <property name="seed" value="${results.seed}"/>`,
    '    </properties>',
    ...Object.entries(results.checks).map(([name, r]) => testCase(suite, name, r)),
    '  </testsuite>',
  ];
}

/** A scenario the certification did not run because it has no meaning for the lab's architecture. */
export interface NotApplicable {
  scenario: string;
  reason: string;
}

/** A scenario that does not apply, as a suite with one skipped case saying why. */
function skippedXml(na: NotApplicable): string[] {
  const suite = `ha-chaos.${na.scenario}`;
  return [
    `  <testsuite name="${xmlEscape(suite)}" tests="1" failures="0" errors="0" skipped="1" time="0.000">`,
    `    <testcase classname="${xmlEscape(suite)}" name="applicable"><skipped message="${xmlEscape(`not applicable: ${na.reason}`)}"/></testcase>`,
    '  </testsuite>',
  ];
}

/**
 * Renders runs' results as one JUnit XML document: a test suite per run (one run: its junit.xml;
 * a certification: all its runs, and a skipped suite per scenario that does not apply).
 */
export function toJUnit(runs: RunResults | RunResults[], notApplicable: NotApplicable[] = []): string {
  const all = Array.isArray(runs) ? runs : [runs];
  const total = all.map(counts).reduce((a, b) => ({ tests: a.tests + b.tests, failures: a.failures + b.failures, errors: a.errors + b.errors, seconds: a.seconds + b.seconds }), { tests: 0, failures: 0, errors: 0, seconds: 0 });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ha-chaos" tests="${total.tests + notApplicable.length}" failures="${total.failures}" errors="${total.errors}"${notApplicable.length ? ` skipped="${notApplicable.length}"` : ''} time="${total.seconds.toFixed(3)}">`,
    ...all.flatMap(suiteXml),
    ...notApplicable.flatMap(skippedXml),
    '</testsuites>',
    '',
  ].join('\n');
}
