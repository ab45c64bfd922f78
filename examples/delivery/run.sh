#!/usr/bin/env bash
# The delivery story of examples/delivery, against a running AWS emulator (AWS_ENDPOINT_URL),
# with the stand-in load balancer (standin.py) on loopback:
#   first deploy (both colours on the module's image) -> build and push (three tags, one
#   digest) -> release to green, checked through the test listener -> promote -> plan clean ->
#   rollback -> plan clean -> a release that fails its check is not promoted -> an approval
#   gate -> a canary -> an alarm in the bake time rolls back -> history -> destroy.
# TERRANE: the terrane binary; PYTHON: a Python with boto3 (the emulator's venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
terrane="${TERRANE:?set TERRANE to the terrane binary}"
python="${PYTHON:?set PYTHON to a python with boto3}"
: "${AWS_ENDPOINT_URL:?set AWS_ENDPOINT_URL to the emulator}"
work="$(mktemp -d)"
standin_pid=""
cleanup() { [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/examples"
cp -r "$here/../../modules" "$work/"
cp -r "$here" "$work/examples/delivery"
cd "$work/examples/delivery"
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
live=$(free_port); test=$(free_port)
sed -e "s/LIVE_PORT/$live/" -e "s/TEST_PORT/$test/" deliver.hcl.example >deliver.hcl
mkdir -p control
"$python" standin.py --endpoint "$AWS_ENDPOINT_URL" --app web --control control \
  --listener "$live:80" --listener "$test:8080" >standin.log 2>&1 &
standin_pid=$!
for _ in $(seq 1 100); do grep -q ready standin.log 2>/dev/null && break; sleep 0.1; done
step() { printf '\n\033[1m$ terrane %s\033[0m\n' "$*"; "$terrane" "$@"; }
fails() { printf '\n\033[1m$ terrane %s\033[0m   (expected to stop)\n' "$*"; if "$terrane" "$@"; then echo "expected a stop"; exit 1; fi; }
show() { printf '\n$ curl %s\n' "$1"; curl -s "$1"; echo; }

step init -input=false
step apply -auto-approve
show "http://127.0.0.1:$live/version"
step deliver build --build-number 1 --git-sha 0123456789abcdef0123456789abcdef01234567
step deliver deploy
show "http://127.0.0.1:$test/version"
step deliver promote
show "http://127.0.0.1:$live/version"
step plan -detailed-exitcode
step deliver status
step deliver rollback
show "http://127.0.0.1:$live/version"
step plan -detailed-exitcode

# A release whose check fails: build 2 answers 500 on /health.
step deliver build --build-number 2 --git-sha 89abcdef0123456789abcdef0123456789abcdef
digest=$("$terrane" deliver history -json | "$python" -c 'import json,sys; print(json.load(sys.stdin)["result"]["builds"][-1]["digest"][7:])')
touch "control/unhealthy-$digest"
fails deliver deploy
fails deliver promote
rm "control/unhealthy-$digest"

# With approval: the promote stops before the swap (exit 3) until --approve.
step deliver deploy
set +e; "$terrane" deliver promote --require-approval; code=$?; set -e
echo "exit code $code (3: waiting for approval)"; [ "$code" = 3 ]
step deliver promote --approve
step plan -detailed-exitcode

# A canary: 20% of live traffic for 2 s, then all of it, watched through the bake time.
step deliver build --build-number 3 --git-sha 4567890abcdef0123456789abcdef0123456789a
step deliver deploy
sed -i 's/^strategy = .*/strategy = { type = "canary", percent = 20, interval = "2s" }/' deliver.hcl
step deliver promote

# An alarm during the bake time: the promote rolls back by itself and says why.
step deliver build --build-number 4 --git-sha 567890abcdef0123456789abcdef0123456789ab
step deliver deploy
sed -i -e 's/^strategy = .*/strategy = { type = "all_at_once" }/' -e 's/^bake_time .*/bake_time = "30s"/' deliver.hcl
alarm() {
  "$python" -c 'import boto3, os, sys
boto3.client("cloudwatch", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1").set_alarm_state(
    AlarmName="web-green-5xx", StateValue=sys.argv[1], StateReason="demo: " + sys.argv[1])' "$1"
}
( sleep 2; alarm ALARM ) &
fails deliver promote
alarm OK
step deliver status
step plan -detailed-exitcode
step deliver history
step destroy -auto-approve
