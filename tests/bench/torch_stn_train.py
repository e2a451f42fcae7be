#!/usr/bin/python3
"""torch_stn_train.py: training throughput of the PyTorch STN tutorial network (PyTorch 1.13, CPU, one
thread), timed like tests/bench/stn_train.js times the wasm model, printed as one JSON object for
tests/bench/bench.js. Run with /usr/bin/python3.

Usage: torch_stn_train.py [timing flags of torch_common.py] [--batch B] [--size S] [--transform affine|none]

The network is the tutorial's (torch_stn_net.py; pytorch.org/tutorials/intermediate/spatial_transformer_tutorial.html):
localisation conv 8@7x7 -> maxpool 2 -> ReLU -> conv 10@5x5 -> maxpool 2 -> ReLU -> FC 32 -> ReLU -> FC 6
(zero weight, identity bias); F.affine_grid + F.grid_sample (align_corners=False); classifier conv 10@5x5
-> maxpool -> ReLU -> conv 20@5x5 -> Dropout2d -> maxpool -> ReLU -> FC 50 -> ReLU -> dropout -> FC 10,
log_softmax + nll_loss. One timed call = one training step on a batch: zero_grad, forward, backward,
clip_grad_norm_(10) and an SGD(lr 0.01, momentum 0.9) step, as the wasm model does (same layer sizes,
same work). --transform none drops the localisation net and sampler (the plain CNN).
Input: uniform noise batches pre-generated (the data does not change the work of a CNN).
"""
import torch
import torch.nn.functional as F

from torch_stn_net import Net
from torch_common import add_int_flags, emit, measure, parse, parser, torch_info


def main():
    ap = parser(__doc__)
    add_int_flags(ap, batch=64, size=28)
    ap.add_argument("--transform", choices=["affine", "none"], default="affine")
    a = parse(ap)
    net = Net(a.size, a.transform == "affine")
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    nb = 8
    xs = [torch.rand(a.batch, 1, a.size, a.size) for _ in range(nb)]
    ys = [torch.randint(0, 10, (a.batch,)) for _ in range(nb)]
    state = {"i": 0}

    def step():
        i = state["i"]
        state["i"] = (i + 1) % nb
        opt.zero_grad()
        loss = F.nll_loss(net(xs[i]), ys[i])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()

    m = measure(step, a)
    emit({**torch_info(), "batch": a.batch, "size": a.size, "transform": a.transform, **m,
          "imagesPerSec": a.batch / m["sec"]})


if __name__ == "__main__":
    main()
