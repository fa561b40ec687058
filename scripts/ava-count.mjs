// Counts AVA's output for the test command's `N passed, N failed` line (AVA prints no such line).
// A failed hook counts once, and every test it stopped ("N tests remaining in <file>") counts as
// failed: a tier whose `before` could not start its lab must not shrink the failed count.

const sum = (output, re) => [...output.matchAll(re)].reduce((total, m) => total + Number(m[1]), 0);

/** Passed and failed tests in AVA's default reporter output. Pure. */
export function countAva(output) {
  // With failures, AVA prints no passed count: count its ✔ lines instead.
  const passed = [...output.matchAll(/^\s*✔ /gm)].length;
  const failed =
    sum(output, /^\s*(\d+) tests? failed/gm) +
    sum(output, /^\s*(\d+) known failures?/gm) +
    sum(output, /^\s*(\d+) uncaught exceptions?/gm) +
    sum(output, /^\s*(\d+) unhandled rejections?/gm) +
    sum(output, /^\s*(\d+) tests? remained pending/gm) +
    sum(output, /^\s*(\d+) tests? timed out/gm) +
    sum(output, /^\s*(\d+) hooks? failed/gm) +
    sum(output, /^\s*✘ (\d+) tests? remaining in /gm);
  return { passed, failed };
}
