"""torch_common.py: the one timing harness of the PyTorch benchmark scripts (tests/bench/torch_*.py):
the protocol of tests/bench/common.js measure(), its clocks, the shared flags, the thread count and
the JSON the JS side reads. A script keeps only its model or kernel.

Protocol (the same in tests/bench/common.js and tests/native/bench_common.h):
  1. warm up: call fn for at least `warmup` seconds and at least 3 times;
  2. calibrate: double the call count until one batch takes >= min_time / 4, estimate `iters` for a
     run of about min_time seconds, time one such untimed run and re-estimate;
  3. time `runs` runs of `iters` calls each; the median seconds per call is the result.
Clock: process CPU time by default (the machine is shared: time spent descheduled is not the
kernel's); --clock wall times (and calibrates) on the wall clock instead, for multi-threaded runs
(--threads N) where only wall-clock shows a speed-up. Each run records both clocks.

Shared flags: --runs R, --min-time S, --warmup S, --clock cpu|wall, --threads N (torch.set_num_threads,
default 1), --seed K (torch.manual_seed).
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch


def parser(doc):
    """An ArgumentParser with the shared flags; the script adds its own."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.1)
    ap.add_argument("--warmup", type=float, default=0.25)
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    return ap


def add_int_flags(ap, **defaults):
    """Integer flags with their defaults: add_int_flags(ap, batch=64, min_length=1) adds --batch, --min-length."""
    for name, default in defaults.items():
        ap.add_argument("--" + name.replace("_", "-"), type=int, default=default)


def add_shape_flag(ap, names):
    """--shape a,b,...: positive sizes named by `names` ("N,C,H,W"), repeatable; a.shape is the list or None."""
    n = len(names.split(","))

    def shape(s):
        try:
            v = tuple(int(x) for x in s.split(","))
        except ValueError:
            v = ()
        if len(v) != n or min(v) <= 0:
            raise argparse.ArgumentTypeError(f"--shape wants {names} positive, got {s}")
        return v

    ap.add_argument("--shape", type=shape, action="append")


def parse(ap):
    """Parse the arguments, then set torch's thread count and seed from them."""
    a = ap.parse_args()
    if not 1 <= a.runs <= 64 or not a.min_time > 0 or not a.warmup >= 0 or a.threads < 1:
        ap.error("need 1 <= --runs <= 64, --min-time > 0, --warmup >= 0, --threads >= 1")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    return a


def measure(fn, a):
    """Time fn with the protocol above (a: the parsed arguments). Returns the measurement's JSON
    fields: sec (median), iters, runs (seconds per call of each run on the timing clock), wallRuns,
    and with --clock wall also clock and cpuRuns."""
    wall_clock = a.clock == "wall"
    now = time.perf_counter if wall_clock else time.process_time
    t0, calls = now(), 0
    while calls < 3 or now() - t0 < a.warmup:
        fn()
        calls += 1
    k = 1
    while True:
        t0 = now()
        for _ in range(k):
            fn()
        t = now() - t0
        if t >= a.min_time / 4 or k >= 1 << 30:
            break
        k *= 2
    iters = max(1, math.ceil(k * a.min_time / max(t, 1e-9)))
    t0 = now()  # one untimed run of the estimated length, then re-estimate
    for _ in range(iters):
        fn()
    iters = max(1, math.ceil(iters * a.min_time / max(now() - t0, 1e-9)))
    cpu, wall = [], []
    for _ in range(a.runs):
        w0 = time.perf_counter()
        t0 = time.process_time()
        for _ in range(iters):
            fn()
        cpu.append((time.process_time() - t0) / iters)
        wall.append((time.perf_counter() - w0) / iters)
    per = wall if wall_clock else cpu
    out = {"sec": statistics.median(per), "iters": iters, "runs": per, "wallRuns": wall}
    if wall_clock:
        out.update(clock="wall", cpuRuns=cpu)
    return out


def torch_info():
    """What ran: the version and the thread count."""
    return {"version": torch.__version__, "threads": torch.get_num_threads()}


def protocol(a):
    """The timing settings, as the JSON reports them."""
    return {"runs": a.runs, "minTime": a.min_time, "warmup": a.warmup}


def emit(obj):
    """Print the one JSON object the JS side reads."""
    json.dump(obj, sys.stdout)
    sys.stdout.write("\n")
