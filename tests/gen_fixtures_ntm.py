#!/usr/bin/python3
"""Reference fixtures for the NTM memory kernels (src/ntm.c, g.ntm), from PyTorch autograd.

Run with Debian's PyTorch:  /usr/bin/python3 tests/gen_fixtures_ntm.py
Writes tests/fixtures/ntm.json.

The equations are exactly those of src/ntm.c's header (Graves et al. 2014, eq. 2-9), including
the two guards, written with torch.clamp so the gradient rules match the C code:
    K   = M·k / clamp(||M_i||·||k||, min=1e-8)
    wc  = softmax(beta·K)
    wg  = g·wc + (1−g)·prev
    w~  = Σ_o wg((i−o) mod R)·s(o+n)
    w   = softmax(gamma·log(clamp(w~, min=1e-30)))      (= w~^gamma / Σ w~^gamma)
Inputs are rounded to 4 decimals and then to float32 (so the JSON is short and JS's
Float32Array gets bit-identical values); the reference runs in float64 on those values.
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20140)


def f32(x, decimals=4):
    return np.float32(np.round(np.asarray(x, dtype=np.float64), decimals))


def softmax_np(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def t(x):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def address_torch(M, k, beta, g, s, gamma, prev):
    R = M.shape[0]
    n = (s.shape[0] - 1) // 2
    den = torch.clamp(torch.linalg.vector_norm(M, dim=1) * torch.linalg.vector_norm(k), min=1e-8)
    K = (M @ k) / den
    wc = torch.softmax(beta * K, 0)
    wg = g * wc + (1 - g) * prev
    wt = torch.zeros(R)
    ar = torch.arange(R)
    for j in range(s.shape[0]):
        o = j - n
        wt = wt + wg[(ar - o) % R] * s[j]
    return torch.softmax(gamma * torch.log(torch.clamp(wt, min=1e-30)), 0)


def out(x):
    """Reference outputs: 7 significant digits are far below every test tolerance."""
    a = np.asarray(x.detach().numpy() if torch.is_tensor(x) else x, dtype=np.float64).ravel()
    return [float('%.7g' % v) for v in a]


def short(v):
    """Shortest decimal that rounds to the same float32 (JS's Float32Array rounds it back)."""
    return float(np.format_float_positional(np.float32(v), unique=True))


def inp(x):
    return [short(v) for v in np.asarray(x, dtype=np.float32).ravel()]


def address_case(name, R, C, S, beta, gate, gamma, zero_row=None, zero_key=False):
    M = f32(rng.uniform(-1, 1, (R, C)))
    if zero_row is not None:
        M[zero_row] = 0
    k = f32(rng.uniform(-1, 1, C))
    if zero_key:
        k[:] = 0
    s = softmax_np(rng.normal(0, 1, S))
    s = f32(s)
    s[S // 2] = f32(1.0 - (s.sum() - s[S // 2]))  # exact-ish unit sum after rounding
    prev = f32(softmax_np(rng.normal(0, 1.5, R)), 6)
    dW = f32(rng.normal(0, 1, R))
    beta, gate, gamma = short(beta), short(gate), short(gamma)
    tM, tk, tb, tg, ts, tgam, tp = t(M), t(k), t(beta), t(gate), t(s), t(gamma), t(prev)
    w = address_torch(tM, tk, tb, tg, ts, tgam, tp)
    (w * torch.tensor(dW.astype(np.float64))).sum().backward()
    grads = [tM.grad, tk.grad, tb.grad, tg.grad, ts.grad, tgam.grad, tp.grad]
    assert all(bool(torch.isfinite(x).all()) for x in grads), name
    return {
        'name': name, 'R': R, 'C': C, 'S': S,
        'memory': inp(M), 'key': inp(k), 'beta': beta, 'gate': gate, 'shift': inp(s), 'gamma': gamma,
        'prev': inp(prev), 'dW': inp(dW),
        'w': out(w),
        'dMemory': out(tM.grad), 'dKey': out(tk.grad), 'dBeta': float(tb.grad), 'dGate': float(tg.grad),
        'dShift': out(ts.grad), 'dGamma': float(tgam.grad), 'dPrev': out(tp.grad),
    }


def read_case(R, C):
    M = f32(rng.uniform(-1, 1, (R, C)))
    w = f32(softmax_np(rng.normal(0, 2, R)), 6)
    dr = f32(rng.normal(0, 1, C))
    tM, tw = t(M), t(w)
    r = tw @ tM  # eq. 2
    (r * torch.tensor(dr.astype(np.float64))).sum().backward()
    return {'R': R, 'C': C, 'memory': inp(M), 'w': inp(w), 'dR': inp(dr),
            'r': out(r), 'dMemory': out(tM.grad), 'dW': out(tw.grad)}


def write_case(R, C):
    M = f32(rng.uniform(-1, 1, (R, C)))
    w = f32(softmax_np(rng.normal(0, 2, R)), 6)
    e = f32(1 / (1 + np.exp(-rng.normal(0, 2, C))))
    a = f32(np.tanh(rng.normal(0, 1, C)))
    dO = f32(rng.normal(0, 1, (R, C)))
    tM, tw, te, ta = t(M), t(w), t(e), t(a)
    Mn = tM * (1 - tw[:, None] * te[None, :]) + tw[:, None] * ta[None, :]  # eq. 3-4
    (Mn * torch.tensor(dO.astype(np.float64))).sum().backward()
    return {'R': R, 'C': C, 'memory': inp(M), 'w': inp(w), 'erase': inp(e), 'add': inp(a), 'dOut': inp(dO),
            'out': out(Mn), 'dMemory': out(tM.grad), 'dW': out(tw.grad), 'dErase': out(te.grad),
            'dAdd': out(ta.grad)}


def main():
    address = [
        address_case('128x20 S3', 128, 20, 3, beta=5.3, gate=0.7, gamma=2.2),
        address_case('128x20 S5 sharp', 128, 20, 5, beta=20.0, gate=0.95, gamma=5.0),
        address_case('17x7 S5 beta0 gamma1', 17, 7, 5, beta=0.0, gate=0.4, gamma=1.0),
        address_case('17x7 S3', 17, 7, 3, beta=12.5, gate=0.15, gamma=3.7),
        address_case('8x4 S3', 8, 4, 3, beta=1.0, gate=0.5, gamma=1.5),
        address_case('3x5 S5 (S > R)', 3, 5, 5, beta=2.0, gate=0.6, gamma=1.3),
        address_case('5x9 S1', 5, 9, 1, beta=3.0, gate=0.3, gamma=2.0),
        address_case('17x7 zero row', 17, 7, 3, beta=8.0, gate=0.8, gamma=2.0, zero_row=4),
        address_case('9x6 zero key', 9, 6, 3, beta=4.0, gate=0.5, gamma=1.7, zero_key=True),
    ]
    read = [read_case(128, 20), read_case(17, 7), read_case(5, 3)]
    write = [write_case(128, 20), write_case(17, 7), write_case(5, 3)]
    data = {
        'generator': 'tests/gen_fixtures_ntm.py (PyTorch %s, float64 on float32 inputs)' % torch.__version__,
        'address': address, 'read': read, 'write': write,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'ntm.json')
    with open(path, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    print('wrote %s (%d bytes)' % (path, os.path.getsize(path)))


if __name__ == '__main__':
    main()
