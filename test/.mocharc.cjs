// Tests are compiled first (`tsc -b`, run by `pretest`), so mocha runs plain JavaScript
// against the built packages: the same code a user installs.
module.exports = {
  spec: ['test/dist/unit/**/*.test.js', 'test/dist/e2e/**/*.test.js'],
  require: ['test/dist/support/global-postgres.js', 'test/dist/support/root-hooks.js'],
  timeout: 60_000,
  slow: 5_000,
  forbidOnly: Boolean(process.env.CI),
  reporter: 'spec',
};
