// The certification suite's own AVA config: it boots the lab and runs every built-in scenario
// (about 5 minutes each under TCG), so it is not part of `npm test`. Run: npm run suite
export default {
  files: ['suites/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '20m',
  concurrency: 1,
};
