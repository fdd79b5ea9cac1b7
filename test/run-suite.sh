#!/usr/bin/env bash
# `npm test` (after its pretest, infra/local/setup.sh): every test file but the e2e ones (test/unit,
# test/integration) in two jest workers, then the e2e files (test/e2e) one at a time. Every unit or integration
# file has a database, a bucket and a Redis key prefix of its own (test/helpers/test-env.ts), its servers on
# port 0 and job folders of its own, so two can run side by side; the e2e files time real worker processes,
# ffmpeg and Chromium, and would race each other for the two cores. The second run goes ahead whatever the
# first gives, and the exit status fails when either failed.
# `npm test -- <jest arguments>` runs jest once, in band, with those arguments (a file, `-t name`…).
set -u
cd "$(dirname "$0")/.."
jest=node_modules/.bin/jest
if [ "$#" -gt 0 ]; then exec "$jest" --runInBand "$@"; fi
TEST_SUMMARY_FILE=$(mktemp)
export TEST_SUMMARY_FILE
started=$SECONDS
"$jest" --maxWorkers=2 --testPathIgnorePatterns /test/e2e/
first=$?
"$jest" --runInBand test/e2e/
second=$?
# One closing line for both runs (test/helpers/summary-reporter.js wrote each run's counts).
node -e '
  const runs = require("node:fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
  const sum = (key) => runs.reduce((total, run) => total + run[key], 0);
  console.log(`\nall tests (${runs.length} jest runs, ${process.argv[2]} s): ${sum("passed")} passed, ${sum("failed")} failed, ${sum("skipped")} skipped, ${sum("failedFiles")} test files failed`);
' "$TEST_SUMMARY_FILE" "$((SECONDS - started))"
rm -f "$TEST_SUMMARY_FILE"
[ "$first" -eq 0 ] && [ "$second" -eq 0 ]
