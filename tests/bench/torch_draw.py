#!/usr/bin/python3
"""torch_draw.py: DRAW's attention (filterbank + read/write, eq. 19-29) in PyTorch (1.13, CPU, one
thread, float32, autograd) timed like tests/bench/draw_kernels.js times the wasm builds, printed as
one JSON object for tests/bench/bench.js. Run with /usr/bin/python3.

Usage: torch_draw.py [timing flags of torch_common.py] [--shape batch,N,A,B]...

Engine "torch-autograd", passes as in draw_kernels.js:
  readFwd, writeFwd: filterbank + read / write under no_grad;
  readFwdBwd: forward, then torch.autograd.grad(out, (x, xhat, params), dread);
  writeFwdBwd: forward, then torch.autograd.grad(canvas, (w, params), dcanvas);
  step: readFwdBwd then writeFwdBwd with separate params.
The equations are the project's (1-based indices, guarded normaliser; see tests/gen_fixtures_draw.py),
batched with torch.matmul.
"""
import torch

from torch_common import add_shape_flag, emit, measure, parse, parser, protocol, torch_info

EPS = 1e-8


def filterbank(params, N, A, B):
    gtx, gty, log_s2, log_dt, log_g = params.unbind(1)
    gx = (A + 1) / 2 * (gtx + 1)
    gy = (B + 1) / 2 * (gty + 1)
    delta = (max(A, B) - 1) / max(N - 1, 1) * torch.exp(log_dt)
    s2 = torch.exp(log_s2)
    i = torch.arange(1, N + 1, dtype=params.dtype)
    mux = gx[:, None] + (i - N / 2 - 0.5) * delta[:, None]
    muy = gy[:, None] + (i - N / 2 - 0.5) * delta[:, None]
    a = torch.arange(1, A + 1, dtype=params.dtype)
    b = torch.arange(1, B + 1, dtype=params.dtype)
    ex = torch.exp(-((a - mux[:, :, None]) ** 2) / (2 * s2[:, None, None]))
    ey = torch.exp(-((b - muy[:, :, None]) ** 2) / (2 * s2[:, None, None]))
    Fx = ex / ex.sum(2, keepdim=True).clamp(min=EPS)
    Fy = ey / ey.sum(2, keepdim=True).clamp(min=EPS)
    return Fx, Fy, torch.exp(log_g)


def read(x, xhat, params, N, A, B):
    Fx, Fy, gamma = filterbank(params, N, A, B)
    FxT = Fx.transpose(1, 2)
    return gamma[:, None, None, None] * torch.stack([Fy @ x @ FxT, Fy @ xhat @ FxT], 1)


def write(w, params, N, A, B):
    Fx, Fy, gamma = filterbank(params, N, A, B)
    return (Fy.transpose(1, 2) @ w @ Fx) / gamma[:, None, None]


def plausible_params(batch):
    lo = torch.tensor([-0.25, -0.25, -0.5, -0.7, -0.5])
    hi = torch.tensor([0.25, 0.25, 0.5, -0.3, 0.5])
    return lo + (hi - lo) * torch.rand(batch, 5)


def main():
    ap = parser(__doc__)
    add_shape_flag(ap, "batch,N,A,B")
    a = parse(ap)
    results = []
    for batch, N, A, B in a.shape or [(64, 5, 28, 28), (64, 12, 28, 28)]:
        pr, pw = plausible_params(batch), plausible_params(batch)
        x, xhat = torch.rand(batch, B, A), torch.rand(batch, B, A) * 2 - 1
        w = torch.rand(batch, N, N) * 2 - 1
        dread, dcanvas = torch.rand(batch, 2, N, N) * 2 - 1, torch.rand(batch, B, A) * 2 - 1
        pr_r, pw_r = pr.clone().requires_grad_(True), pw.clone().requires_grad_(True)
        x_r, xh_r, w_r = x.clone().requires_grad_(True), xhat.clone().requires_grad_(True), w.clone().requires_grad_(True)

        def read_fwd():
            with torch.no_grad():
                read(x, xhat, pr, N, A, B)

        def write_fwd():
            with torch.no_grad():
                write(w, pw, N, A, B)

        def read_fwdbwd():
            torch.autograd.grad(read(x_r, xh_r, pr_r, N, A, B), (x_r, xh_r, pr_r), dread)

        def write_fwdbwd():
            torch.autograd.grad(write(w_r, pw_r, N, A, B), (w_r, pw_r), dcanvas)

        def step():
            read_fwdbwd()
            write_fwdbwd()

        for name, fn in (("readFwd", read_fwd), ("readFwdBwd", read_fwdbwd), ("writeFwd", write_fwd),
                         ("writeFwdBwd", write_fwdbwd), ("step", step)):
            results.append({"engine": "torch-autograd", "shape": [batch, N, A, B], "pass": name, **measure(fn, a)})
    emit({"engine": "torch-autograd", **torch_info(), **protocol(a), "results": results})


if __name__ == "__main__":
    main()
