#!/usr/bin/env bash
# The main job, end to end, on the quickstart module (no cloud account needed):
# init -> plan -> apply -> no-change plan -> update -> destroy, in a scratch directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/terrane-target}"
# The dev profile shares its build with tests/run (the AWS SDK crates are slow to optimise).
cargo build --quiet --manifest-path "$here/../Cargo.toml" --bin terrane
terrane="$CARGO_TARGET_DIR/debug/terrane"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/quickstart/." "$work/"
cd "$work"
step() { printf '\n\033[1m$ terrane %s\033[0m\n' "$*"; "$terrane" "$@"; }
step init
step validate
step plan -out=tfplan
step apply tfplan
step plan -detailed-exitcode
step apply -auto-approve -var='services={api=3,worker=1,cron=1}'
step output
step state list
step destroy -auto-approve -var='services={api=3,worker=1,cron=1}'
