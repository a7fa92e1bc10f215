// Prints one plain closing line for the whole run, "tests: N passed, N failed[, N skipped]", as the
// very last line of the log (at process exit, after jest's own summary), so a reader of the log
// finds the totals at the end rather than a conformance group's tally.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`;
    process.once("exit", () => process.stderr.write(line));
  }
}

module.exports = SummaryReporter;
