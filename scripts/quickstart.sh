#!/usr/bin/env bash
# Builds Plexus and runs the quickstart example on this machine (no servers needed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
mkdir -p examples/quickstart/out
node dist/src/cli/main.js run examples/quickstart/script.yaml \
  --params examples/quickstart/params.yaml \
  --keyspace quickstart \
  --start-nodes read_orders,read_items \
  --state-dir examples/quickstart/.plexus
node dist/src/cli/main.js dag examples/quickstart/script.yaml \
  --params examples/quickstart/params.yaml --format svg -o examples/quickstart/out/dag.svg
echo
echo "Results: examples/quickstart/out/order_totals.csv"
cat examples/quickstart/out/order_totals.csv
echo
echo "DAG picture: examples/quickstart/out/dag.svg"
