#!/usr/bin/python3
"""torch_ntm.py: the NTM copy-task model of src/ntm_model.c written in PyTorch 1.13 (CPU, one
thread), its training step timed like tests/bench/ntm_train.js times the wasm builds, printed as one
JSON object for tests/bench/bench.js. Run with /usr/bin/python3.

Usage: torch_ntm.py [timing flags of torch_common.py] [--batch B]
                    [--min-length L] [--max-length L] [--bits 8] [--rows 128] [--columns 20]
                    [--controller 100]

The model (as src/ntm_model.c; Graves et al. 2014 with Collier & Beel's 2018 choices): LSTMCell
controller fed [x_t, r_{t-1}], one read and one write head whose parameters come from one Linear
layer clipped to +-20 (tanh key, softplus beta, sigmoid gate, softmax shift over -1..1,
1 + softplus gamma, sigmoid erase, tanh add), content + location addressing (eq. 5-9, with the
same guards as the C kernels: cosine denominator max(., 1e-8), sharpening as
softmax(gamma * log(max(w~, 1e-30)))), read and write on the memory before the step's write,
memory initialised to 1e-6, learned initial read vector and weightings, output Linear([h, r]).
Loss: BCE with logits summed over the output phase, mean over the batch; backprop through time by
autograd, clip_grad_norm_(10), Adam(lr 1e-3).

One timed call = one training step for each length L = min..max (batch B random sequences of
length L, 2L+1 time steps each): the same unit of work as the wasm and native engines.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import add_int_flags, emit, measure, parse, parser, protocol, torch_info


class NTM(nn.Module):
    def __init__(self, bits=8, R=128, C=20, Hd=100, n=1):
        super().__init__()
        self.bits, self.R, self.C, self.Hd, self.n, self.S = bits, R, C, Hd, n, 2 * n + 1
        self.Ib = bits + 1
        self.Ph = C + self.S + 3
        self.lstm = nn.LSTMCell(self.Ib + C, Hd)
        self.heads = nn.Linear(Hd, 2 * self.Ph + 2 * C)
        self.out = nn.Linear(Hd + C, bits)
        self.r0 = nn.Parameter(torch.empty(C).uniform_(-math.sqrt(6 / (1 + C)), math.sqrt(6 / (1 + C))))
        self.w0 = nn.Parameter(torch.empty(2, R).uniform_(-math.sqrt(6 / (1 + R)), math.sqrt(6 / (1 + R))))

    def address(self, M, k, beta, g, s, gamma, wprev):
        """M (B,R,C), k (B,H,C), beta g gamma (B,H), s (B,H,S), wprev (B,H,R) -> w (B,H,R)."""
        dot = torch.einsum("brc,bhc->bhr", M, k)
        den = (M.norm(dim=2).unsqueeze(1) * k.norm(dim=2).unsqueeze(2)).clamp_min(1e-8)
        wc = F.softmax(beta.unsqueeze(2) * (dot / den), dim=2)                        # eq. 5-6
        wg = g.unsqueeze(2) * wc + (1 - g.unsqueeze(2)) * wprev                        # eq. 7
        wt = sum(torch.roll(wg, shifts=j - self.n, dims=2) * s[:, :, j:j + 1] for j in range(self.S))  # eq. 8
        return F.softmax(gamma.unsqueeze(2) * torch.log(wt.clamp_min(1e-30)), dim=2)  # eq. 9

    def forward(self, x, L):
        """x (T, B, Ib) with T = 2L+1 -> logits of the output phase (L, B, bits)."""
        T, B, _ = x.shape
        C, Ph, S = self.C, self.Ph, self.S
        h = x.new_zeros(B, self.Hd)
        c = x.new_zeros(B, self.Hd)
        r = torch.tanh(self.r0).expand(B, C)
        w = F.softmax(self.w0, dim=1).unsqueeze(0).expand(B, 2, self.R)
        M = x.new_full((B, self.R, C), 1e-6)
        outs = []
        for t in range(T):
            h, c = self.lstm(torch.cat([x[t], r], 1), (h, c))
            p = self.heads(h).clamp(-20, 20)
            hp = torch.stack([p[:, :Ph], p[:, Ph:2 * Ph]], 1)                            # (B, 2, Ph)
            k = torch.tanh(hp[:, :, :C])
            beta = F.softplus(hp[:, :, C])
            g = torch.sigmoid(hp[:, :, C + 1])
            s = F.softmax(hp[:, :, C + 2:C + 2 + S], dim=2)
            gamma = 1 + F.softplus(hp[:, :, C + 2 + S])
            e = torch.sigmoid(p[:, 2 * Ph:2 * Ph + C])
            a = torch.tanh(p[:, 2 * Ph + C:])
            w = self.address(M, k, beta, g, s, gamma, w)
            r = torch.bmm(w[:, 0:1], M).squeeze(1)                                       # eq. 2
            ww = w[:, 1].unsqueeze(2)
            M = M * (1 - ww * e.unsqueeze(1)) + ww * a.unsqueeze(1)                      # eq. 3-4
            if t > L:
                outs.append(self.out(torch.cat([h, r], 1)))
        return torch.stack(outs)


def copy_batch(B, L, bits, gen):
    seq = torch.randint(0, 2, (L, B, bits), generator=gen).float()
    x = torch.zeros(2 * L + 1, B, bits + 1)
    x[:L, :, :bits] = seq
    x[L, :, bits] = 1
    return x, seq


def main():
    ap = parser(__doc__)
    add_int_flags(ap, batch=16, min_length=1, max_length=20, bits=8, rows=128, columns=20, controller=100)
    a = parse(ap)
    gen = torch.Generator().manual_seed(a.seed)
    model = NTM(a.bits, a.rows, a.columns, a.controller)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lengths = list(range(a.min_length, a.max_length + 1))
    losses = []

    def step(L):
        x, seq = copy_batch(a.batch, L, a.bits, gen)
        logits = model(x, L)
        loss = F.binary_cross_entropy_with_logits(logits, seq, reduction="sum") / a.batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        return loss.item()

    def unit():
        for L in lengths:
            losses.append(step(L))

    m = measure(unit, a)
    emit({"engine": "torch", **torch_info(), **protocol(a), "parameters": sum(p.numel() for p in model.parameters()),
          "sequencesPerCall": a.batch * len(lengths),
          "results": [{"engine": "torch", "pass": "train", **m, "lastLoss": losses[-1] / math.log(2)}]})


if __name__ == "__main__":
    main()
