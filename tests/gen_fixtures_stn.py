#!/usr/bin/python3
"""Reference fixtures for the STN kernels (g.stn), from PyTorch.

Run with Debian's PyTorch (not the pyenv python):  /usr/bin/python3 tests/gen_fixtures_stn.py
Writes tests/fixtures/stn.json, read by tests/stn.test.js. Tests never run PyTorch.

Cases
  grid_sample: 3 shapes x padding {zeros, border, reflection} x align_corners {False, True}.
    Ho x Wo differs from H x W (down- and up-sampling), C > 1, N > 1 (one shape has N = 1 and
    H = 1), Ho*Wo not a multiple of 4 (exercises the SIMD kernels' tail), grid uniform in
    [-1.6, 1.6] so many points fall outside the image. Forward output and both gradients
    (dInput, dGrid) from autograd for a random dOutput.
  affine_grid: 3 sizes (one with H = 1, one with W = 1) x align_corners: forward grid and
    dTheta from autograd for a random dGrid.

Kinks: bilinear sampling is not differentiable where a pixel coordinate is an integer, and the
padding modes add kinks at the clip / reflection points (integers or half-integers). Grid values
whose unnormalised pixel coordinate lies within KINK_EPS of a multiple of 0.5 are redrawn, so
rounding differences between PyTorch and our kernels cannot put a point on the other side of a
kink (measure-zero anyway, but this makes the fixture robust).
"""
import json
import math
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
# affine_grid warns about unit-size grids with align_corners=True; that case is tested on purpose.
warnings.filterwarnings('ignore', message='.*unit-size grids.*')
torch.manual_seed(20240611)
rs = np.random.RandomState(20240611)

KINK_EPS = 2e-3
GRID_RANGE = 1.6
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'stn.json')


def pixel_coord(v, size, align):
    """torch's grid_sampler_unnormalize, in float64."""
    if align:
        return (v + 1.0) / 2.0 * (size - 1)
    return ((v + 1.0) * size - 1.0) / 2.0


def near_kink(v, size, align):
    if align and size == 1:
        return False  # the coordinate is 0 whatever v is: no kink in v
    x = pixel_coord(float(v), size, align)
    return abs(x * 2.0 - round(x * 2.0)) < 2.0 * KINK_EPS


def random_grid(N, Ho, Wo, H, W, align):
    g = rs.uniform(-GRID_RANGE, GRID_RANGE, size=(N, Ho, Wo, 2)).astype(np.float32)
    for idx in np.ndindex(N, Ho, Wo):
        for k, size in ((0, W), (1, H)):
            while near_kink(g[idx + (k,)], size, align):
                g[idx + (k,)] = np.float32(rs.uniform(-GRID_RANGE, GRID_RANGE))
    return torch.from_numpy(g)


def flat(t):
    """Float32 values as JSON numbers that round-trip exactly (9 significant digits)."""
    a = t.detach().contiguous().view(-1).numpy().astype(np.float32)
    return [float('%.9g' % x) for x in a]


def gs_case(N, C, H, W, Ho, Wo, padding, align):
    inp = torch.from_numpy(rs.uniform(-1, 1, size=(N, C, H, W)).astype(np.float32)).requires_grad_(True)
    grid = random_grid(N, Ho, Wo, H, W, align).requires_grad_(True)
    out = F.grid_sample(inp, grid, mode='bilinear', padding_mode=padding, align_corners=align)
    dout = torch.from_numpy(rs.uniform(-1, 1, size=tuple(out.shape)).astype(np.float32))
    out.backward(dout)
    assert out.dtype == torch.float32 and tuple(out.shape) == (N, C, Ho, Wo)
    return {
        'size': [N, C, H, W], 'outSize': [Ho, Wo], 'padding': padding, 'alignCorners': align,
        'input': flat(inp), 'grid': flat(grid), 'output': flat(out),
        'dOutput': flat(dout), 'dInput': flat(inp.grad), 'dGrid': flat(grid.grad),
    }


def ag_case(N, C, H, W, align):
    theta = torch.from_numpy(rs.uniform(-1.2, 1.2, size=(N, 2, 3)).astype(np.float32)).requires_grad_(True)
    grid = F.affine_grid(theta, [N, C, H, W], align_corners=align)
    dgrid = torch.from_numpy(rs.uniform(-1, 1, size=tuple(grid.shape)).astype(np.float32))
    grid.backward(dgrid)
    assert grid.dtype == torch.float32 and tuple(grid.shape) == (N, H, W, 2)
    return {
        'size': [N, C, H, W], 'alignCorners': align,
        'theta': flat(theta), 'grid': flat(grid), 'dGrid': flat(dgrid), 'dTheta': flat(theta.grad),
    }


def main():
    # (N, C, H, W, Ho, Wo): Ho*Wo = 18, 35, 11 (tails of 2, 3, 3 lanes for 4-wide SIMD).
    shapes = [(2, 3, 5, 7, 3, 6), (3, 2, 4, 3, 5, 7), (1, 2, 1, 6, 1, 11)]
    gs = [gs_case(*s, padding, align)
          for s in shapes for padding in ('zeros', 'border', 'reflection') for align in (False, True)]
    ag = [ag_case(*s, align) for s in [(2, 3, 5, 7), (3, 1, 1, 6), (2, 2, 4, 1)] for align in (False, True)]
    doc = {
        'generator': 'tests/gen_fixtures_stn.py',
        'torch': torch.__version__,
        'note': 'float32; grid values near kinks (pixel coordinate within %g of a multiple of 0.5) redrawn' % KINK_EPS,
        'gridSample': gs,
        'affineGrid': ag,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes): %d grid_sample cases, %d affine_grid cases' %
          (OUT, os.path.getsize(OUT), len(gs), len(ag)))


if __name__ == '__main__':
    main()
