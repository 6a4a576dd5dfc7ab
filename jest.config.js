/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  // ESM-only packages (e.g. @statelyai/inspect) are transformed to CJS for the test runtime.
  transformIgnorePatterns: ['/node_modules/(?!(@statelyai)/)'],
  // A guard against hangs, not a time bound: suites share 2 cores with other work in CI
  // (model-based suites took 18 s alone and over 20 s beside seven others).
  testTimeout: 60000,
  // Two workers on the 2-core machines: most of the slow suites wait on child processes
  // (nats-server, npm, tsc, chromium), so a second worker halves the wall time of the suite
  // (530 s with one). Tests may not depend on timing margins, so sharing the cores is safe.
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/support/slowFirstSequencer.js',
  // Tests close what they open (test/support/cleanup.ts), but a handle a failed test
  // leaves behind (a NATS client reconnecting to its killed server) must not keep CI
  // waiting until its time limit. Locally jest reports such a handle instead.
  forceExit: process.env.CI === 'true',
};
