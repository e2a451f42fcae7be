#!/usr/bin/python3
"""torch_stn_train.py: training throughput of the PyTorch STN tutorial network (PyTorch 1.13, CPU, one
thread), timed like tests/bench/stn_train.js times the wasm model, printed as one JSON object for
tests/bench/bench.js. Run with /usr/bin/python3.

Usage: torch_stn_train.py [timing flags of torch_common.py] [--batch B] [--size S] [--transform affine|none]

The network is the tutorial's (pytorch.org/tutorials/intermediate/spatial_transformer_tutorial.html):
localisation conv 8@7x7 -> maxpool 2 -> ReLU -> conv 10@5x5 -> maxpool 2 -> ReLU -> FC 32 -> ReLU -> FC 6
(zero weight, identity bias); F.affine_grid + F.grid_sample (align_corners=False); classifier conv 10@5x5
-> maxpool -> ReLU -> conv 20@5x5 -> Dropout2d -> maxpool -> ReLU -> FC 50 -> ReLU -> dropout -> FC 10,
log_softmax + nll_loss. One timed call = one training step on a batch: zero_grad, forward, backward,
clip_grad_norm_(10) and an SGD(lr 0.01, momentum 0.9) step, as the wasm model does (same layer sizes,
same work). --transform none drops the localisation net and sampler (the plain CNN).
Input: uniform noise batches pre-generated (the data does not change the work of a CNN).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import add_int_flags, emit, measure, parse, parser, torch_info


class Net(nn.Module):
    def __init__(self, size, transform):
        super().__init__()
        self.transform = transform
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        s = ((size - 4) // 2 - 4) // 2
        self.flat = 20 * s * s
        self.fc1 = nn.Linear(self.flat, 50)
        self.fc2 = nn.Linear(50, 10)
        if transform:
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            l = ((size - 6) // 2 - 4) // 2
            self.lflat = 10 * l * l
            self.fc_loc = nn.Sequential(nn.Linear(self.lflat, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, self.lflat)
        theta = self.fc_loc(xs).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        if self.transform:
            x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, self.flat)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


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
