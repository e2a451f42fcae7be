#!/usr/bin/python3
"""Reference fixtures for the projective and thin-plate-spline grids (src/grid.c), from PyTorch.

Run with Debian's PyTorch:  /usr/bin/python3 tests/gen_fixtures_grid.py
Writes tests/fixtures/grid.json, read by tests/grid.test.js. Tests never run PyTorch.

Both grids are written here in a few lines of torch, in float64, and differentiated by autograd:
  projective: theta (N, 3, 3) applied to torch's affine_grid base coordinates (x, y, 1), divided by
    the third coordinate; dTheta for a random dGrid.
  tps: the thin-plate spline of Jaderberg et al. 2015 §3.1 / Bookstein 1989: control points on a
    regular gy x gx grid over [-1, 1]^2 (row-major, (x, y)), U(r) = r^2 log r^2, coefficients from
    torch.linalg.solve of the (K + 3) system [[U(|P_i - P_j|), 1, P_i], [1 P^T, 0]] (w; a) =
    (points; 0), then T(p) = a_0 + a_1 x + a_2 y + sum_k w_k U(|p - P_k|); dPoints for a random dGrid.
The base coordinates are torch's own (F.affine_grid of the identity), so align_corners means what
it means in torch.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20261201)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'grid.json')


def base_coords(H, W, align):
    """(H*W, 2) of (x, y): torch's affine_grid base grid."""
    ident = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]], dtype=torch.float64)
    return F.affine_grid(ident, [1, 1, H, W], align_corners=align).reshape(H * W, 2)


def projective(theta, H, W, align):
    p = base_coords(H, W, align)
    hom = torch.cat([p, torch.ones(H * W, 1, dtype=torch.float64)], 1)  # (HW, 3)
    uvs = torch.einsum('nij,pj->npi', theta, hom)  # (N, HW, 3)
    return (uvs[..., :2] / uvs[..., 2:3]).reshape(theta.shape[0], H, W, 2)


def control_points(gy, gx):
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, gy, dtype=torch.float64),
                            torch.linspace(-1, 1, gx, dtype=torch.float64), indexing='ij')
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)  # (K, 2), k = i * gx + j


def U(d2):
    return torch.where(d2 > 0, d2 * torch.log(torch.where(d2 > 0, d2, torch.ones_like(d2))), torch.zeros_like(d2))


def tps(points, H, W, gy, gx, align):
    cp = control_points(gy, gx)
    K = cp.shape[0]
    Q = torch.cat([torch.ones(K, 1, dtype=torch.float64), cp], 1)
    L = torch.zeros(K + 3, K + 3, dtype=torch.float64)
    L[:K, :K] = U(((cp[:, None, :] - cp[None, :, :]) ** 2).sum(-1))
    L[:K, K:] = Q
    L[K:, :K] = Q.T
    rhs = torch.cat([points, torch.zeros(points.shape[0], 3, 2, dtype=torch.float64)], 1)  # (N, K+3, 2)
    coef = torch.linalg.solve(L, rhs)
    p = base_coords(H, W, align)
    b = torch.cat([U(((p[:, None, :] - cp[None, :, :]) ** 2).sum(-1)), torch.ones(H * W, 1, dtype=torch.float64), p], 1)
    return torch.einsum('pr,nrc->npc', b, coef).reshape(points.shape[0], H, W, 2)


def flat(t):
    return [float('%.9g' % v) for v in t.detach().reshape(-1).to(torch.float32)]  # 9 digits: exact float32


cases = {'projective': [], 'tps': []}
for (N, H, W) in [(2, 5, 7), (1, 16, 13), (3, 1, 6), (2, 9, 1)]:
    for align in (False, True):
        theta = (torch.eye(3, dtype=torch.float64) + 0.15 * torch.randn(N, 3, 3, dtype=torch.float64))
        theta[:, 2, :2] *= 0.5  # keep the denominator well away from 0 over [-1, 1]^2
        theta = theta.to(torch.float32).to(torch.float64).requires_grad_()
        grid = projective(theta, H, W, align)
        dgrid = torch.randn_like(grid).to(torch.float32).to(torch.float64)
        (dtheta,) = torch.autograd.grad((grid * dgrid).sum(), theta)
        cases['projective'].append({'N': N, 'H': H, 'W': W, 'align': align, 'theta': flat(theta), 'grid': flat(grid),
                                    'dgrid': flat(dgrid), 'dtheta': flat(dtheta)})
for (N, H, W, gy, gx) in [(2, 5, 7, 4, 4), (1, 16, 13, 4, 4), (2, 6, 9, 2, 3), (1, 11, 10, 3, 5), (1, 7, 7, 8, 8)]:
    for align in (False, True):
        cp = control_points(gy, gx)
        points = (cp[None] + 0.12 * torch.randn(N, gy * gx, 2, dtype=torch.float64)).to(torch.float32).to(torch.float64)
        points.requires_grad_()
        grid = tps(points, H, W, gy, gx, align)
        dgrid = torch.randn_like(grid).to(torch.float32).to(torch.float64)
        (dpoints,) = torch.autograd.grad((grid * dgrid).sum(), points)
        cases['tps'].append({'N': N, 'H': H, 'W': W, 'controlGrid': [gy, gx], 'align': align, 'points': flat(points),
                             'grid': flat(grid), 'dgrid': flat(dgrid), 'dpoints': flat(dpoints)})

cases['generator'] = 'tests/gen_fixtures_grid.py, torch ' + torch.__version__ + ', float64 with autograd, stored as float32'
with open(OUT, 'w') as f:
    json.dump(cases, f, separators=(',', ':'))
print(f"wrote {OUT}: {len(cases['projective'])} projective and {len(cases['tps'])} tps cases, "
      f"{os.path.getsize(OUT) // 1024} KB")
