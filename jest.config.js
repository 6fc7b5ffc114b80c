/** Jest on native ES modules with @swc/jest (see ../shared/TOOLING.md). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 120000,
  // three on two cores: many suites wait on child processes (the CLI, local mode, sshd, s3rver)
  maxWorkers: 3,
  // the long suites start first, so none of them ends the run alone
  testSequencer: '<rootDir>/jest-sequencer.js',
};
