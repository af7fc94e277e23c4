#!/usr/bin/env bash
# Runs every test (unit + lab) on the shipped Node 24 and prints one closing line
# `tests: N passed, N failed, N skipped`. Extra arguments go to vitest.
# A file that fails outside any test (an error while collecting it, a failing beforeAll/afterAll:
# a lab file whose prerequisite is missing under CI) counts as one failed test, and is named
# above the closing line; vitest alone counts only failed tests and would say "0 failed".
set -uo pipefail
cd "$(dirname "$0")/.."
arch=$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
# Only the shipped runtime goes on PATH (node_modules/.bin has an npm `dhcpd` that would
# shadow ISC dhcpd in the lab).
export PATH="$PWD/node_modules/node-linux-$arch/bin:$PATH"
mkdir -p test-results
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@"
rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-results/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  const files = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"));
  for (const f of files) console.log(`failed outside any test: ${require("path").relative(process.cwd(), f.name)}: ${(f.message || "an error in a hook, see above").split("\n")[0]}`);
  const failed = r.numFailedTests + files.length;
  console.log(`tests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
  if (failed > 0) process.exit(1);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' || rc=1
exit $rc
