/** Jest runs TypeScript through ts-jest; integration tests use the real services started in globalSetup. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': 'ts-jest',
    // @tus/server, @tus/s3-store, srvx and c2pa-node ship only ES modules: Node 20.20 requires them as they are,
    // jest's module system cannot, so they are turned into CommonJS for the tests (test/helpers/esm-transformer.js).
    '^.+/node_modules/(@tus|srvx|@contentauth)/.+\\.m?js$': '<rootDir>/test/helpers/esm-transformer.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!(@tus|srvx|@contentauth)/)'],
  // c2pa-node's node-fetch is ES modules only and is used for nothing here (test/helpers/node-fetch-shim.js).
  moduleNameMapper: { '^node-fetch$': '<rootDir>/test/helpers/node-fetch-shim.js' },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'json'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
