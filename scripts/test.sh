#!/usr/bin/env bash
# The whole suite (`npm test`): system test tools, type check, then every unit and end-to-end test
# under node:test (src/, test/, and the benchmark's own helpers in bench/; not the benchmark). Exits non-zero on the first stage that fails; the last lines are node:test's
# summary (tests / pass / fail / …).
set -euo pipefail
cd "$(dirname "$0")/.."

# npm puts node_modules/.bin first on PATH; do the same when the script is run directly, so the
# project's pinned Node 24 (not the machine's) runs everything.
export PATH="$PWD/node_modules/.bin:$PATH"

bash scripts/install-test-deps.sh

echo "test.sh: type check (tsc -p tsconfig.json)" >&2
tsc -p tsconfig.json

# Two files at a time: the machine has two cores, and the end-to-end files spend most of their
# time waiting on registry and client processes. The per-test timeout keeps a hung server from
# stalling the run; node:test reports it as a failure.
echo "test.sh: node --test" >&2
exec node --test \
  --test-concurrency=2 \
  --test-timeout=300000 \
  'src/**/*.test.ts' \
  'test/**/*.test.ts' \
  'bench/**/*.test.ts'
