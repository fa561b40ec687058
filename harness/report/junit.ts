/**
 * JUnit XML for CI: one test suite per run, one test case per check. A failed check is a
 * `<failure>`; an unknown verdict is an `<error>` (CI must not read "unknown" as a pass).
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { CheckResult } from '../check/checker.ts';
import type { RunResults } from './results.ts';

/** Escapes text for XML and HTML attributes and content (the timeline's HTML). */
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

/** Text as XML 1.0 can carry it: the control characters it cannot are dropped (the builder escapes the rest). */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

type XmlElement = Record<string, unknown>;

function testCase(suite: string, name: string, result: CheckResult): XmlElement {
  const details = clean(result.details ? JSON.stringify(result.details, null, 2) : '');
  const verdict =
    result.valid === true
      ? { 'system-out': clean(result.summary) }
      : result.valid === false
        ? { failure: { '@_message': clean(result.summary), '@_type': 'verdict-false', '#text': details } }
        : { error: { '@_message': clean(result.summary), '@_type': 'verdict-unknown', '#text': details } };
  return { '@_classname': clean(suite), '@_name': clean(name), ...verdict };
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
function suiteXml(results: RunResults): XmlElement {
  const { tests, failures, errors, seconds } = counts(results);
  const suite = `ha-chaos.${results.name}`;
  return {
    '@_name': clean(suite),
    '@_tests': tests,
    '@_failures': failures,
    '@_errors': errors,
    '@_time': seconds.toFixed(3),
    '@_timestamp': clean(results.startedAt),
    properties: { property: [{ '@_name': 'runId', '@_value': clean(results.runId) }, { '@_name': 'seed', '@_value': results.seed }] },
    testcase: Object.entries(results.checks).map(([name, r]) => testCase(suite, name, r)),
  };
}

/** A scenario the certification did not run because it has no meaning for the lab's architecture. */
export interface NotApplicable {
  scenario: string;
  reason: string;
}

/** A scenario that does not apply, as a suite with one skipped case saying why. */
function skippedXml(na: NotApplicable): XmlElement {
  const suite = clean(`ha-chaos.${na.scenario}`);
  return {
    '@_name': suite,
    '@_tests': 1,
    '@_failures': 0,
    '@_errors': 0,
    '@_skipped': 1,
    '@_time': '0.000',
    testcase: [{ '@_classname': suite, '@_name': 'applicable', skipped: { '@_message': clean(`not applicable: ${na.reason}`) } }],
  };
}

/**
 * Renders runs' results as one JUnit XML document: a test suite per run (one run: its junit.xml;
 * a certification: all its runs, and a skipped suite per scenario that does not apply).
 */
export function toJUnit(runs: RunResults | RunResults[], notApplicable: NotApplicable[] = []): string {
  const all = Array.isArray(runs) ? runs : [runs];
  const total = all.map(counts).reduce((a, b) => ({ tests: a.tests + b.tests, failures: a.failures + b.failures, errors: a.errors + b.errors, seconds: a.seconds + b.seconds }), { tests: 0, failures: 0, errors: 0, seconds: 0 });
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '  ', suppressEmptyNode: true, processEntities: true });
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': 'ha-chaos',
      '@_tests': total.tests + notApplicable.length,
      '@_failures': total.failures,
      '@_errors': total.errors,
      ...(notApplicable.length ? { '@_skipped': notApplicable.length } : {}),
      '@_time': total.seconds.toFixed(3),
      testsuite: [...all.map(suiteXml), ...notApplicable.map(skippedXml)],
    },
  }) as string;
}
