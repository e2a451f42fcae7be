#!/usr/bin/python3
"""export_stn_onnx.py: writes the ONNX model the "threads" benchmark section runs in onnxruntime-web
(tests/bench/threads.js, the STN inference peer), and checks that ONNX Runtime computes what PyTorch
does. Run with /usr/bin/python3 (PyTorch 1.13) from anywhere; node and `npm install` (onnxruntime-web,
a devDependency) are needed for the check.

  /usr/bin/python3 tests/bench/export_stn_onnx.py [--check-only]

Writes (committed; regenerate only when the network changes):
  tests/bench/fixtures/stn28.onnx       the PyTorch STN tutorial's Net at 28x28, eval mode, input
                                        "images" [N,1,28,28] float32 (N dynamic), output
                                        "log_probs" [N,10] (log_softmax, as the tutorial returns)
  tests/bench/fixtures/stn28_check.bin  a check batch: B = 8 images (float32, B*784) then torch's
                                        outputs for them (float32, B*10), little-endian

The network is tests/bench/torch_stn_net.py's Net (the tutorial's: localisation conv 8@7x7 -> pool
-> ReLU -> conv 10@5x5 -> pool -> ReLU -> FC 32 -> ReLU -> FC 6; affine sampler; classifier conv
10@5x5 -> pool -> ReLU -> conv 20@5x5 -> pool -> ReLU -> FC 50 -> ReLU -> FC 10), the same layer
sizes as src/stn_model.c's defaults, with random weights from torch.manual_seed(1) (PyTorch's default
initialisation; the last localisation layer, zero with an identity bias in the tutorial, gets small
random weights so theta is not the identity and the sampler's interpolation is exercised).

Export: torch 1.13 cannot export F.affine_grid to ONNX, so the grid is written as a matmul of theta
with a fixed base grid: base[h*W + w] = (x_w, y_h, 1) with the normalised coordinates
affine_grid(align_corners=False) uses, x_w = (2w + 1) / W - 1, y_h = (2h + 1) / H - 1, and
grid[n] = base @ theta[n]^T ([H*W,3] x [3,2]); the script checks that this equals F.affine_grid.
F.grid_sample (bilinear, zeros, align_corners=False) exports to GridSample (opset 16).

Check: the batch is run by onnxruntime-web's wasm backend in Node (a node child process: there is
no onnxruntime for this Python) and its outputs must match torch's to 1e-4; the benchmark section
repeats that comparison against stn28_check.bin before timing ORT.
"""
import argparse
import os
import struct
import subprocess
import sys

import torch
import torch.nn.functional as F

from torch_stn_net import Net as TutorialNet

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
ONNX_PATH = os.path.join(FIXTURES, "stn28.onnx")
CHECK_PATH = os.path.join(FIXTURES, "stn28_check.bin")
SIZE = 28
CHECK_BATCH = 8
TOL = 1e-4


def base_grid(h, w):
    """[h*w, 3]: (x, y, 1) per output pixel, row-major, as affine_grid(align_corners=False) makes them."""
    xs = (2 * torch.arange(w, dtype=torch.float32) + 1) / w - 1
    ys = (2 * torch.arange(h, dtype=torch.float32) + 1) / h - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1), torch.ones(h * w)], dim=1)


class Net(TutorialNet):
    """The tutorial Net with a random last localisation layer and the grid as a matmul (exportable)."""

    def __init__(self, size=SIZE):
        super().__init__(size, transform=True)
        with torch.no_grad():
            self.fc_loc[2].weight.normal_(0.0, 0.05)
            self.fc_loc[2].bias.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float) +
                                      0.05 * torch.randn(6))
        self.register_buffer("base", base_grid(size, size))

    def grid(self, theta):
        # [N, H*W, 2] = base [H*W, 3] @ theta^T [N, 3, 2]  (F.affine_grid has no ONNX export in 1.13)
        return torch.matmul(self.base, theta.transpose(1, 2)).view(-1, self.size, self.size, 2)


# Runs the model in onnxruntime-web (wasm backend, 1 thread) on the check batch; prints the max |diff|.
ORT_CHECK = r"""
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
const [onnx, check, B] = [process.argv[1], process.argv[2], Number(process.argv[3])];
ort.env.wasm.numThreads = 1;
const s = await ort.InferenceSession.create(readFileSync(onnx), { executionProviders: ['wasm'] });
const buf = readFileSync(check);
const f = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
const x = f.slice(0, B * 784), ref = f.slice(B * 784);
const out = (await s.run({ images: new ort.Tensor('float32', x, [B, 1, 28, 28]) })).log_probs.data;
let d = 0;
for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(out[i] - ref[i]));
if (out.length !== ref.length) d = Infinity;
process.stdout.write(JSON.stringify({ maxAbsDiff: d, n: out.length }) + '\n');
"""


def ort_check():
    r = subprocess.run(["node", "--input-type=module", "-e", ORT_CHECK, ONNX_PATH, CHECK_PATH, str(CHECK_BATCH)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit(f"export_stn_onnx.py: the onnxruntime-web check failed to run (npm install?):\n{r.stderr}")
    import json
    res = json.loads(r.stdout.strip().splitlines()[-1])
    ok = res["maxAbsDiff"] <= TOL
    print(f"onnxruntime-web vs torch on {CHECK_BATCH} images: max |diff| {res['maxAbsDiff']:.3g} "
          f"({'ok' if ok else 'MISMATCH'}, tolerance {TOL})")
    if not ok:
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-only", action="store_true", help="only re-run the onnxruntime-web check")
    a = ap.parse_args()
    if a.check_only:
        ort_check()
        return
    torch.manual_seed(1)
    torch.set_num_threads(1)
    net = Net().eval()

    # the matmul grid is affine_grid's
    theta = torch.randn(5, 2, 3)
    ref = F.affine_grid(theta, [5, 1, SIZE, SIZE], align_corners=False)
    d = (net.grid(theta) - ref).abs().max().item()
    print(f"matmul grid vs F.affine_grid: max |diff| {d:.3g}")
    assert d < 1e-6, d

    x = torch.rand(CHECK_BATCH, 1, SIZE, SIZE)
    with torch.no_grad():
        y = net(x)
        th = net.theta(x)
    print(f"theta of the check batch: mean |theta - identity| "
          f"{(th - torch.tensor([[1., 0, 0], [0, 1, 0]])).abs().mean().item():.3f}")

    os.makedirs(FIXTURES, exist_ok=True)
    torch.onnx.export(net, x, ONNX_PATH, opset_version=16, input_names=["images"], output_names=["log_probs"],
                      dynamic_axes={"images": {0: "N"}, "log_probs": {0: "N"}}, do_constant_folding=True)
    with open(CHECK_PATH, "wb") as f:
        f.write(struct.pack(f"<{x.numel()}f", *x.reshape(-1).tolist()))
        f.write(struct.pack(f"<{y.numel()}f", *y.reshape(-1).tolist()))
    params = sum(p.numel() for p in net.parameters())
    print(f"wrote {os.path.relpath(ONNX_PATH, ROOT)} ({os.path.getsize(ONNX_PATH)} bytes, {params} parameters) "
          f"and {os.path.relpath(CHECK_PATH, ROOT)}")
    ort_check()


if __name__ == "__main__":
    main()
