#!/usr/bin/env bash
# The main job, end to end: first on the quickstart module (no cloud account needed):
# init -> plan -> apply -> no-change plan -> update -> destroy, in a scratch directory; then the
# example AWS environment against a local emulator.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/terrane-target}"
# The dev profile shares its build with tests/run (the AWS SDK crates are slow to optimise).
# The first build on a machine takes several minutes; cargo shows its progress.
echo "== building terrane (cargo build --bin terrane; the first build takes several minutes)"
cargo build --manifest-path "$here/../Cargo.toml" --bin terrane
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

# Part two: the example environment (examples/environment, 59 AWS resources) against a local
# AWS API emulator (moto, installed into a cached venv as tests/run does, on 127.0.0.1).
lock_hash=$(sha256sum "$here/../tests/moto/requirements.lock" | cut -c1-12)
venv="$HOME/.cache/terrane-moto/$lock_hash"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import moto' 2>/dev/null; then
  echo "== installing moto into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/../tests/moto/requirements.lock"
fi
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ECS_SERVICE_RUNNING=1 \
  "$venv/bin/python" "$here/../tests/moto/launch.py" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="http://127.0.0.1:$port"
mkdir -p "$work/env/examples"
cp -r "$here/../modules" "$work/env/"
cp -r "$here/environment" "$work/env/examples/"
cd "$work/env/examples/environment"
step init
step apply -auto-approve
step plan -detailed-exitcode
step apply -auto-approve -var=live=green
step destroy -auto-approve -var=live=green

# Part three: WASM plugins (examples/plugins): the random and aws-ssm example plugins, built for
# wasm32-wasip2, beside native AWS resources, against the same emulator.
rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
echo "== building the example plugins (cargo build --target wasm32-wasip2; the first build takes a minute or two)"
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/plugins" cargo build --target wasm32-wasip2 --release \
  --manifest-path "$here/../plugins/guest/Cargo.toml" -p terrane-plugin-random -p terrane-plugin-aws-ssm
mkdir -p "$work/plugins-example/plugins"
cp -r "$here/plugins/." "$work/plugins-example/"
cp "$CARGO_TARGET_DIR/plugins/wasm32-wasip2/release/terrane_plugin_random.wasm" "$work/plugins-example/plugins/random.wasm"
cp "$CARGO_TARGET_DIR/plugins/wasm32-wasip2/release/terrane_plugin_aws_ssm.wasm" "$work/plugins-example/plugins/aws-ssm.wasm"
cd "$work/plugins-example"
step init
step apply -auto-approve
step plan -detailed-exitcode
step destroy -auto-approve

# Part four: health-gated tiers (examples/tiered-services, seed 002): NATS, then capability
# services, then the use-case service, each tier created only once the one before is healthy
# (ECS steady in the emulator, and /health answering {"Status": "Success"} on a loopback HTTP
# server). NATS's /health appears after 3 s, so its gate is seen waiting.
site="$work/site"
for svc in bruin-bridge notifier service-affecting-monitor; do
  mkdir -p "$site/$svc"
  echo '{"Status": "Success"}' > "$site/$svc/health"
  echo '{"version": "1.0.0"}' > "$site/$svc/version"
done
mkdir -p "$site/nats"
( sleep 3; echo '{"Status": "Success"}' > "$site/nats/health" ) &
http_port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$site" "$http_port" >"$work/http.log" 2>&1 &
http_pid=$!
trap 'kill $moto_pid $http_pid 2>/dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$http_port"
cp -r "$here/tiered-services" "$work/tiered"
cd "$work/tiered"
cat > terraform.tfvars <<VARS
service_urls = {
  nats                      = "$base/nats"
  bruin-bridge              = "$base/bruin-bridge"
  notifier                  = "$base/notifier"
  service-affecting-monitor = "$base/service-affecting-monitor"
}
check_interval = "1s"
check_deadline = "1m"
desired_count  = 1
VARS
step init
step apply -auto-approve
step output gates
step destroy -auto-approve

# Part five: app delivery (examples/delivery, seed 001): blue/green on ECS. Build and push an
# image (a small OCI builder, ECR's layer API), release it to the idle colour, check it through
# the test listener, promote (at once, with approval, as a canary), roll back by hand and on an
# alarm, with `terrane plan` clean after each. A loopback stand-in plays the load balancer.
# Its own emulator: the app's services run two tasks each (the first one runs one).
port2=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ECS_SERVICE_RUNNING=2 \
  "$venv/bin/python" "$here/../tests/moto/launch.py" -H 127.0.0.1 -p "$port2" >"$work/moto2.log" 2>&1 &
moto2_pid=$!
trap 'kill $moto_pid $http_pid $moto2_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port2/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done
AWS_ENDPOINT_URL="http://127.0.0.1:$port2" TERRANE="$terrane" PYTHON="$venv/bin/python" "$here/delivery/run.sh"
