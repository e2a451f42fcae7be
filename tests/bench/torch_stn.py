#!/usr/bin/python3
"""torch_stn.py: PyTorch's grid_sample (1.13, CPU, one thread) timed like tests/bench/stn_sampler.js
times the wasm builds, printed as one JSON object for tests/bench/bench.js. Run with /usr/bin/python3.

Usage: torch_stn.py [--runs R] [--min-time S] [--warmup S] [--seed K] [--shape N,C,H,W,Ho,Wo]...

Two engines, each with passes "fwd" and "fwdbwd" (forward then backward giving dInput and dGrid):
  "torch":          the ATen kernels called directly, torch.ops.aten.grid_sampler_2d and
                    grid_sampler_2d_backward: kernel against kernel, as the wasm builds are timed;
  "torch-autograd": F.grid_sample (under no_grad for fwd), then torch.autograd.grad(out, (input, grid),
                    dout) on leaf tensors that require grad: what a training step pays, autograd included.
Bilinear, zeros padding, align_corners=False, grid from F.affine_grid with theta = identity
+ U(-0.1, 0.1) per entry, input U(0, 1), dout U(-1, 1).
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

DEFAULT_SHAPES = [(64, 1, 28, 28, 28, 28), (64, 1, 60, 60, 28, 28), (16, 32, 28, 28, 28, 28)]


def measure(fn, warmup, min_time, runs):
    """The protocol of tests/bench/common.js measure(): warm up, calibrate, median of timed runs, on
    the process CPU clock (the machine is shared; see common.js). Also returns wall seconds per call."""
    now = time.process_time
    t0, calls = now(), 0
    while calls < 3 or now() - t0 < warmup:
        fn()
        calls += 1
    k = 1
    while True:
        t0 = now()
        for _ in range(k):
            fn()
        t = now() - t0
        if t >= min_time / 4 or k >= 1 << 30:
            break
        k *= 2
    iters = max(1, math.ceil(k * min_time / max(t, 1e-9)))
    t0 = now()  # one untimed run of the estimated length, then re-estimate
    for _ in range(iters):
        fn()
    iters = max(1, math.ceil(iters * min_time / max(now() - t0, 1e-9)))
    per, wall = [], []
    for _ in range(runs):
        w0 = time.perf_counter()
        t0 = now()
        for _ in range(iters):
            fn()
        per.append((now() - t0) / iters)
        wall.append((time.perf_counter() - w0) / iters)
    return statistics.median(per), iters, per, wall


def shape_arg(s):
    v = tuple(int(x) for x in s.split(","))
    if len(v) != 6 or min(v) <= 0:
        raise argparse.ArgumentTypeError(f"--shape wants N,C,H,W,Ho,Wo positive, got {s}")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.1)
    ap.add_argument("--warmup", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", type=shape_arg, action="append")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    results = []
    for N, C, H, W, Ho, Wo in a.shape or DEFAULT_SHAPES:
        theta = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(N, 2, 3) + (torch.rand(N, 2, 3) * 0.2 - 0.1)
        grid = F.affine_grid(theta, [N, C, Ho, Wo], align_corners=False).contiguous()
        inp = torch.rand(N, C, H, W)
        dout = torch.rand(N, C, Ho, Wo) * 2 - 1
        kw = dict(mode="bilinear", padding_mode="zeros", align_corners=False)

        # interpolation_mode 0 = bilinear, padding_mode 0 = zeros, align_corners False
        aten = torch.ops.aten

        def kernel_fwd():
            aten.grid_sampler_2d(inp, grid, 0, 0, False)

        def kernel_fwdbwd():
            aten.grid_sampler_2d(inp, grid, 0, 0, False)
            aten.grid_sampler_2d_backward(dout, inp, grid, 0, 0, False, [True, True])

        def autograd_fwd():
            with torch.no_grad():
                F.grid_sample(inp, grid, **kw)

        inp_r = inp.clone().requires_grad_(True)
        grid_r = grid.clone().requires_grad_(True)

        def autograd_fwdbwd():
            out = F.grid_sample(inp_r, grid_r, **kw)
            torch.autograd.grad(out, (inp_r, grid_r), dout)

        for engine, name, fn in (("torch", "fwd", kernel_fwd), ("torch", "fwdbwd", kernel_fwdbwd),
                                 ("torch-autograd", "fwd", autograd_fwd), ("torch-autograd", "fwdbwd", autograd_fwdbwd)):
            sec, iters, per, wall = measure(fn, a.warmup, a.min_time, a.runs)
            results.append({"engine": engine, "shape": [N, C, H, W, Ho, Wo], "pass": name, "sec": sec, "iters": iters,
                            "runs": per, "wallRuns": wall})
    json.dump({"engine": "torch", "version": torch.__version__, "threads": torch.get_num_threads(),
               "runs": a.runs, "minTime": a.min_time, "warmup": a.warmup, "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
