const { appendFileSync } = require('node:fs');

/**
 * Prints one plain closing line, "N passed, N failed, N skipped", for people and CI logs alike. When
 * TEST_SUMMARY_FILE is set (test/run-suite.sh: `npm test` runs jest twice), the counts are also appended to it
 * as a JSON line, so the script can close with one line for both runs.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
    const file = process.env.TEST_SUMMARY_FILE;
    if (file) {
      const failedFiles = results.numFailedTestSuites + results.numRuntimeErrorTestSuites;
      appendFileSync(file, `${JSON.stringify({ passed: results.numPassedTests, failed: results.numFailedTests, skipped, failedFiles })}\n`);
    }
  }
}
module.exports = SummaryReporter;
