#!/usr/bin/python3
"""torch_stn.py: PyTorch's grid_sample (1.13, CPU, one thread) timed like tests/bench/stn_sampler.js
times the wasm builds, printed as one JSON object for tests/bench/bench.js. Run with /usr/bin/python3.

Usage: torch_stn.py [timing flags of torch_common.py] [--shape N,C,H,W,Ho,Wo]...

Two engines, each with passes "fwd" and "fwdbwd" (forward then backward giving dInput and dGrid):
  "torch":          the ATen kernels called directly, torch.ops.aten.grid_sampler_2d and
                    grid_sampler_2d_backward: kernel against kernel, as the wasm builds are timed;
  "torch-autograd": F.grid_sample (under no_grad for fwd), then torch.autograd.grad(out, (input, grid),
                    dout) on leaf tensors that require grad: what a training step pays, autograd included.
Bilinear, zeros padding, align_corners=False, grid from F.affine_grid with theta = identity
+ U(-0.1, 0.1) per entry, input U(0, 1), dout U(-1, 1).
"""
import torch
import torch.nn.functional as F

from torch_common import add_shape_flag, emit, measure, parse, parser, protocol, torch_info

DEFAULT_SHAPES = [(64, 1, 28, 28, 28, 28), (64, 1, 60, 60, 28, 28), (16, 32, 28, 28, 28, 28)]


def main():
    ap = parser(__doc__)
    add_shape_flag(ap, "N,C,H,W,Ho,Wo")
    a = parse(ap)
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
            results.append({"engine": engine, "shape": [N, C, H, W, Ho, Wo], "pass": name, **measure(fn, a)})
    emit({"engine": "torch", **torch_info(), **protocol(a), "results": results})


if __name__ == "__main__":
    main()
