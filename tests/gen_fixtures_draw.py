#!/usr/bin/python3
"""Reference fixtures for the DRAW attention kernels (tests/draw.test.js).

PyTorch autograd (float64) through the paper's equations (Gregor et al. 2015, eq. 19-29), written
out here independently of the C code, with the project's conventions (shared API, src/draw.c):
1-based filter index i in 1..N and pixel indices a in 1..A, b in 1..B; images B x A (rows x
columns); params per item (g~X, g~Y, log sigma^2, log delta~, log gamma); delta's factor
(max(A,B)-1)/max(N-1, 1); normaliser guarded with max(sum, 1e-8), the same guard as the C code.

Inputs are short decimals rounded to float32 before use, so the test (Float32Array.from) feeds the
kernels exactly the values the reference saw; outputs are the float64 results to 7 digits.

Run: /usr/bin/python3 tests/gen_fixtures_draw.py  (writes tests/fixtures/draw.json)
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
EPS = 1e-8


def filterbank(params, N, A, B):
    """params (batch, 5) -> Fx (batch, N, A), Fy (batch, N, B), gamma (batch)."""
    gtx, gty, log_s2, log_dt, log_g = params.unbind(1)
    gx = (A + 1) / 2 * (gtx + 1)  # eq. 22
    gy = (B + 1) / 2 * (gty + 1)  # eq. 23
    delta = (max(A, B) - 1) / max(N - 1, 1) * torch.exp(log_dt)  # eq. 24
    s2 = torch.exp(log_s2)
    gamma = torch.exp(log_g)
    i = torch.arange(1, N + 1, dtype=torch.float64)  # 1-based, as in the paper
    mux = gx[:, None] + (i - N / 2 - 0.5) * delta[:, None]  # eq. 19
    muy = gy[:, None] + (i - N / 2 - 0.5) * delta[:, None]  # eq. 20
    a = torch.arange(1, A + 1, dtype=torch.float64)
    b = torch.arange(1, B + 1, dtype=torch.float64)
    ex = torch.exp(-((a[None, None, :] - mux[:, :, None]) ** 2) / (2 * s2[:, None, None]))  # eq. 25
    ey = torch.exp(-((b[None, None, :] - muy[:, :, None]) ** 2) / (2 * s2[:, None, None]))  # eq. 26
    Fx = ex / ex.sum(2, keepdim=True).clamp(min=EPS)
    Fy = ey / ey.sum(2, keepdim=True).clamp(min=EPS)
    return Fx, Fy, gamma


def read(x, xhat, params, N, A, B):
    Fx, Fy, gamma = filterbank(params, N, A, B)
    r = lambda img: Fy @ img @ Fx.transpose(1, 2)  # eq. 27
    return gamma[:, None, None, None] * torch.stack([r(x), r(xhat)], 1)


def write(w, params, N, A, B):
    Fx, Fy, gamma = filterbank(params, N, A, B)
    return (Fy.transpose(1, 2) @ w @ Fx) / gamma[:, None, None]  # eq. 29


def short(t, digits=3):
    """Inputs: round to a few decimals (short JSON), then to float32. The JSON holds the decimal
    value; Float32Array.from() of it gives exactly the float32 the reference used."""
    return torch.round(t * 10**digits) / 10**digits


def f32(t):
    """Round to float32, back to float64 (what the float32 kernels will see)."""
    return t.detach().to(torch.float32).to(torch.float64)


def flat_in(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def flat(t):
    """Outputs: float64 results to 7 significant digits (float32 carries about 7.2)."""
    return [float('%.7g' % v) for v in t.detach().reshape(-1).tolist()]


def make_params(gen, batch, extra=None):
    lo = torch.tensor([-0.8, -0.8, -1.0, -1.5, -1.0])
    hi = torch.tensor([0.8, 0.8, 1.5, 0.3, 1.0])
    p = short(lo + (hi - lo) * torch.rand(batch, 5, generator=gen))
    if extra is not None:  # hand-picked rows: off-centre, sharp, far outside (guard active)
        for k, row in enumerate(extra):
            p[k] = torch.tensor(row)
    return p


def case(name, batch, N, A, B, seed, extra=None):
    gen = torch.Generator().manual_seed(seed)
    params = make_params(gen, batch, extra)
    x = short(torch.rand(batch, B, A, generator=gen), 2)
    xhat = short(torch.rand(batch, B, A, generator=gen) * 2 - 1, 2)
    w = short(torch.randn(batch, N, N, generator=gen))
    dread = short(torch.randn(batch, 2, N, N, generator=gen))
    dcanvas = short(torch.randn(batch, B, A, generator=gen), 2)
    inputs = {'params': params, 'x': x, 'xHat': xhat, 'w': w, 'dRead': dread, 'dCanvas': dcanvas}
    params, x, xhat, w, dread, dcanvas = (f32(t) for t in inputs.values())

    Fx, Fy, gamma = filterbank(params, N, A, B)

    p1, x1, xh1 = params.clone().requires_grad_(), x.clone().requires_grad_(), xhat.clone().requires_grad_()
    out = read(x1, xh1, p1, N, A, B)
    out.backward(dread)

    p2, w2 = params.clone().requires_grad_(), w.clone().requires_grad_()
    canvas = write(w2, p2, N, A, B)
    canvas.backward(dcanvas)

    return {
        'name': name,
        'size': [batch, N, A, B],
        **{k: flat_in(t) for k, t in inputs.items()},
        'Fx': flat(Fx),
        'Fy': flat(Fy),
        'gamma': flat(gamma),
        'read': flat(out),
        'readDX': flat(x1.grad),
        'readDXHat': flat(xh1.grad),
        'readDParams': flat(p1.grad),
        'write': flat(canvas),
        'writeDW': flat(w2.grad),
        'writeDParams': flat(p2.grad),
    }


def main():
    cases = [
        # MNIST-sized, the paper's read N for MNIST is 2 and write N 5; 5 and 12 cover tails.
        case('28x28 N=5', 3, 5, 28, 28, 1,
             extra=[[0.0, 0.0, 0.0, 0.0, 0.0],          # centred, unit sigma, full stride
                    [1.3, -1.1, -2.5, 0.5, 0.7]]),      # partly off the image, sharp filters
        case('28x28 N=12', 2, 12, 28, 28, 2),
        case('A=20 B=28 N=4', 3, 4, 20, 28, 3,
             extra=[[4.0, 0.2, -2.0, -0.5, 0.1],        # x filters far outside: rows of zeros
                    [-1.952, 0.2, 0.5, -1.5, 0.1]]),    # x filters just left of the image: the guard
                                                        # is active (sums 4e-9 .. 1e-26 < 1e-8) and the
                                                        # last row still reads 0.4 of pixel a = 1
        case('A=28 B=20 N=3', 2, 3, 28, 20, 4),
        case('N=1 A=9 B=7', 2, 1, 9, 7, 5),
    ]
    out = {
        'generator': 'tests/gen_fixtures_draw.py (PyTorch %s, float64 autograd, outputs to 7 significant digits)'
                     % torch.__version__,
        'eps': EPS,
        'cases': cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'draw.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes, %d cases)' % (path, os.path.getsize(path), len(cases)))


if __name__ == '__main__':
    main()
