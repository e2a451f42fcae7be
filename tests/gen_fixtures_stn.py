#!/usr/bin/python3
"""Reference fixtures for the STN kernels (g.stn), from PyTorch.

Run with Debian's PyTorch (not the pyenv python):  /usr/bin/python3 tests/gen_fixtures_stn.py
Writes tests/fixtures/stn.json (bilinear, affine_grid) and tests/fixtures/stn_modes.json (nearest,
bicubic, ties, non-finite grids), read by tests/stn.test.js. Tests never run PyTorch.

Cases
  grid_sample: 3 shapes x padding {zeros, border, reflection} x align_corners {False, True}.
    Ho x Wo differs from H x W (down- and up-sampling), C > 1, N > 1 (one shape has N = 1 and
    H = 1), Ho*Wo not a multiple of 4 (exercises the SIMD kernels' tail), grid uniform in
    [-1.6, 1.6] so many points fall outside the image. Forward output and both gradients
    (dInput, dGrid) from autograd for a random dOutput.
  affine_grid: 3 sizes (one with H = 1, one with W = 1) x align_corners: forward grid and
    dTheta from autograd for a random dGrid.
  stn_modes.json, from its own random stream (stn.json stays as it was):
  modes: mode {nearest, bicubic} x 2 shapes x padding x align_corners, as the bilinear cases
    (nearest: grid values near a rounding tie, a half-integer pixel coordinate, redrawn as well).
  ties: nearest at pixel coordinates that are exactly half-integers in float32 (round half to
    even), every padding x align_corners.
  nonFinite: every mode x padding x align_corners on a grid holding NaN, +-Inf, +-1e30, +-3e9 beside
    ordinary values, forward and both gradients; except the bilinear backward with border padding
    and a NaN, or reflection padding and a NaN or +-Inf: torch 1.13 crashes there (segmentation
    fault: its backward indexes memory with the unclipped NaN coordinate), so those cases hold the
    forward only ("backward": null with the reason).

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
OUT_MODES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'stn_modes.json')


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


def modes_case(rs, N, C, H, W, Ho, Wo, mode, padding, align):
    inp = torch.from_numpy(rs.uniform(-1, 1, size=(N, C, H, W)).astype(np.float32)).requires_grad_(True)
    g = rs.uniform(-GRID_RANGE, GRID_RANGE, size=(N, Ho, Wo, 2)).astype(np.float32)
    for idx in np.ndindex(N, Ho, Wo):
        for k, size in ((0, W), (1, H)):
            while near_kink(g[idx + (k,)], size, align):
                g[idx + (k,)] = np.float32(rs.uniform(-GRID_RANGE, GRID_RANGE))
    grid = torch.from_numpy(g).requires_grad_(True)
    out = F.grid_sample(inp, grid, mode=mode, padding_mode=padding, align_corners=align)
    dout = torch.from_numpy(rs.uniform(-1, 1, size=tuple(out.shape)).astype(np.float32))
    out.backward(dout)
    return {
        'mode': mode, 'size': [N, C, H, W], 'outSize': [Ho, Wo], 'padding': padding, 'alignCorners': align,
        'input': flat(inp), 'grid': flat(grid), 'output': flat(out),
        'dOutput': flat(dout), 'dInput': flat(inp.grad), 'dGrid': flat(grid.grad),
    }


def ties_case(rs, padding, align):
    """Nearest at exact half-integer pixel coordinates: W = H = 5 (align: x = (g + 1) * 2) or
    4 (not: x = (g + 1) * 2 - 0.5), g a multiple of 1/4, so every step is exact in float32."""
    size = 5 if align else 4
    vals = np.arange(-1.75, 1.76, 0.25, dtype=np.float32)
    xs, ys = np.meshgrid(vals, vals[::3])
    grid = torch.from_numpy(np.stack([xs, ys], -1)[None].astype(np.float32)).requires_grad_(True)
    inp = torch.from_numpy(rs.uniform(-1, 1, size=(1, 2, size, size)).astype(np.float32)).requires_grad_(True)
    out = F.grid_sample(inp, grid, mode='nearest', padding_mode=padding, align_corners=align)
    dout = torch.from_numpy(rs.uniform(-1, 1, size=tuple(out.shape)).astype(np.float32))
    out.backward(dout)
    return {
        'mode': 'nearest', 'size': list(inp.shape), 'outSize': list(out.shape[2:]), 'padding': padding,
        'alignCorners': align, 'input': flat(inp), 'grid': flat(grid), 'output': flat(out),
        'dOutput': flat(dout), 'dInput': flat(inp.grad), 'dGrid': flat(grid.grad),
    }


NON_FINITE = [float('nan'), float('inf'), float('-inf'), 1e30, -1e30, 3e9, -3e9]


def flat_nan(t):
    """flat() with non-finite values as the strings 'NaN', 'Infinity', '-Infinity' (JSON has none)."""
    return [x if math.isfinite(x) else ('NaN' if math.isnan(x) else ('Infinity' if x > 0 else '-Infinity'))
            for x in flat(t)]


def nonfinite_case(rs, mode, padding, align):
    N, C, H, W = 1, 2, 4, 5
    pts = []
    for v in NON_FINITE:
        pts += [(v, rs.uniform(-0.9, 0.9)), (rs.uniform(-0.9, 0.9), v)]
    pts += [(float('nan'), float('nan')), (float('inf'), float('-inf'))]
    pts += [(rs.uniform(-1.2, 1.2), rs.uniform(-1.2, 1.2)) for _ in range(5)]
    g = np.array(pts, dtype=np.float32).reshape(N, 1, len(pts), 2)
    inp = torch.from_numpy(rs.uniform(-1, 1, size=(N, C, H, W)).astype(np.float32)).requires_grad_(True)
    grid = torch.from_numpy(g).requires_grad_(True)
    out = F.grid_sample(inp, grid, mode=mode, padding_mode=padding, align_corners=align)
    dout = torch.from_numpy(rs.uniform(-1, 1, size=tuple(out.shape)).astype(np.float32))
    case = {
        'mode': mode, 'size': [N, C, H, W], 'outSize': [1, len(pts)], 'padding': padding, 'alignCorners': align,
        'input': flat(inp), 'grid': flat_nan(grid), 'output': flat_nan(out), 'dOutput': flat(dout),
    }
    crash = mode == 'bilinear' and (padding == 'border' or padding == 'reflection')
    if crash:
        case['backward'] = None
        case['why'] = ('torch 1.13 segfaults: its bilinear backward clips the coordinate with a NaN-propagating '
                       'maximum and gathers/scatters at the index of a NaN (reflection: also of +-Inf)')
    else:
        out.backward(dout)
        case['dInput'] = flat_nan(inp.grad)
        case['dGrid'] = flat_nan(grid.grad)
    return case


def modes_doc():
    mrs = np.random.RandomState(20251201)
    shapes = [(2, 2, 5, 7, 3, 6), (1, 3, 4, 3, 5, 7)]
    modes = [modes_case(mrs, *s, mode, padding, align)
             for mode in ('nearest', 'bicubic') for s in shapes
             for padding in ('zeros', 'border', 'reflection') for align in (False, True)]
    ties = [ties_case(mrs, padding, align) for padding in ('zeros', 'border', 'reflection') for align in (False, True)]
    nonfinite = [nonfinite_case(mrs, mode, padding, align) for mode in ('bilinear', 'nearest', 'bicubic')
                 for padding in ('zeros', 'border', 'reflection') for align in (False, True)]
    return {
        'generator': 'tests/gen_fixtures_stn.py',
        'torch': torch.__version__,
        'note': 'float32; grid values near kinks (pixel coordinate within %g of a multiple of 0.5) redrawn in '
                '"modes"; non-finite values as the strings NaN, Infinity, -Infinity' % KINK_EPS,
        'modes': modes,
        'ties': ties,
        'nonFinite': nonfinite,
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
    m = modes_doc()
    with open(OUT_MODES, 'w') as f:
        json.dump(m, f, separators=(',', ':'))
        f.write('\n')
    print('wrote %s (%d bytes): %d mode cases, %d tie cases, %d non-finite cases' %
          (OUT_MODES, os.path.getsize(OUT_MODES), len(m['modes']), len(m['ties']), len(m['nonFinite'])))


if __name__ == '__main__':
    main()
