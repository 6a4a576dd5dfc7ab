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
  testTimeout: 20000,
};
