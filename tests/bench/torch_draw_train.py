#!/usr/bin/python3
"""torch_draw_train.py: the DRAW model of src/draw_model.c in PyTorch (1.13, CPU, one thread), one training
step timed like tests/bench/draw_train.js times the wasm builds, printed as one JSON object for
tests/bench/bench.js. Run with /usr/bin/python3.

Usage: torch_draw_train.py [timing flags of torch_common.py] [--batch B] [--T n]
         [--readN n] [--writeN n] [--hidden n] [--latent n] [--attention 0|1] [--check]

The same model, step for step (Gregor et al. 2015; see src/draw_model.c): x^ = x - sigmoid(c),
read (attention: gamma [Fy x Fx^T, Fy x^ Fx^T] from a linear layer of h_dec, soft-clamped params,
1-based filter/pixel grid; none: [x, x^]), LSTMCell encoder on [r, h_dec], z = mu + exp(log sigma) eps
(log sigma soft-clamped), LSTMCell decoder, write (attention: (1/gamma) Fy^T w Fx; none: a linear
layer), c += write; loss = BCE-with-logits(c_T, x) summed over pixels + KL summed over steps, mean
over the batch; autograd backward, clip_grad_norm_(10), Adam(lr 1e-3). One difference in the
parameter count only: torch's LSTMCell has two bias vectors (b_ih, b_hh) where the C has one.
Data: B images of 28x28 with U(0, 1) pixels thresholded at 0.5, the same batch every step.
--check: print the loss of a few steps instead of timing (a sanity check that it trains).
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_common import add_int_flags, emit, measure, parse, parser, torch_info

ATT_LO = torch.tensor([-3.0, -3.0, -4.0, -4.0, -7.0])
ATT_HI = torch.tensor([3.0, 3.0, 7.0, 4.0, 7.0])
LOGSIGMA_LIM = 6.0


def soft_clamp(p):
    mid, half = (ATT_LO + ATT_HI) / 2, (ATT_HI - ATT_LO) / 2
    return mid + half * torch.tanh((p - mid) / half)


def filterbank(p, N, A, B):
    """p (b, 5) clamped params -> Fx (b, N, A), Fy (b, N, B), gamma (b) (eq. 19-26, 1-based grid)."""
    gx_, gy_, logs2, logd, logg = p.unbind(1)
    gx = (A + 1) / 2 * (gx_ + 1)
    gy = (B + 1) / 2 * (gy_ + 1)
    delta = (max(A, B) - 1) / max(N - 1, 1) * torch.exp(logd)
    s2 = torch.exp(logs2)[:, None, None]
    i = torch.arange(1, N + 1, dtype=torch.float32) - N / 2 - 0.5
    mux = gx[:, None] + i * delta[:, None]
    muy = gy[:, None] + i * delta[:, None]
    a = torch.arange(1, A + 1, dtype=torch.float32)
    b = torch.arange(1, B + 1, dtype=torch.float32)
    Fx = torch.exp(-((a - mux[..., None]) ** 2) / (2 * s2))
    Fy = torch.exp(-((b - muy[..., None]) ** 2) / (2 * s2))
    Fx = Fx / Fx.sum(-1, keepdim=True).clamp_min(1e-8)
    Fy = Fy / Fy.sum(-1, keepdim=True).clamp_min(1e-8)
    return Fx, Fy, torch.exp(logg)


class DRAW(nn.Module):
    def __init__(self, T, Nr, Nw, Hd, Z, att, H=28, W=28):
        super().__init__()
        self.T, self.Nr, self.Nw, self.Hd, self.Z, self.att, self.H, self.W = T, Nr, Nw, Hd, Z, att, H, W
        R = 2 * Nr * Nr if att else 2 * H * W
        self.enc = nn.LSTMCell(R + Hd, Hd)
        self.dec = nn.LSTMCell(Z, Hd)
        self.q = nn.Linear(Hd, 2 * Z)
        self.write = nn.Linear(Hd, Nw * Nw if att else H * W)
        if att:
            self.read_att = nn.Linear(Hd, 5)
            self.write_att = nn.Linear(Hd, 5)
            L = max(H, W)
            with torch.no_grad():  # the C's init of the attention biases (src/draw_model.c init_params)
                self.read_att.bias[2] = 2 * math.log(0.5 * (L - 1) / max(Nr - 1, 1))
                ls2 = 2 * math.log(0.5 * (L - 1) / max(Nw - 1, 1))
                self.write_att.bias[2] = ls2
                self.write_att.bias[4] = -math.log(2 * math.pi) - ls2

    def forward(self, x):
        b, H, W, Hd = x.shape[0], self.H, self.W, self.Hd
        xi = x.view(b, H, W)
        c = torch.zeros(b, H * W)
        he = ce = hd = cd = torch.zeros(b, Hd)
        kl = 0.0
        for _ in range(self.T):
            xh = x - torch.sigmoid(c)
            if self.att:
                Fx, Fy, g = filterbank(soft_clamp(self.read_att(hd)), self.Nr, W, H)
                r1 = Fy @ xi @ Fx.transpose(1, 2)
                r2 = Fy @ xh.view(b, H, W) @ Fx.transpose(1, 2)
                r = g[:, None] * torch.cat([r1.reshape(b, -1), r2.reshape(b, -1)], 1)
            else:
                r = torch.cat([x, xh], 1)
            he, ce = self.enc(torch.cat([r, hd], 1), (he, ce))
            q = self.q(he)
            mu, ls = q[:, : self.Z], LOGSIGMA_LIM * torch.tanh(q[:, self.Z :] / LOGSIGMA_LIM)
            z = mu + torch.exp(ls) * torch.randn_like(mu)
            kl = kl + 0.5 * (mu * mu + torch.exp(2 * ls) - 2 * ls - 1).sum()
            hd, cd = self.dec(z, (hd, cd))
            if self.att:
                Fx, Fy, g = filterbank(soft_clamp(self.write_att(hd)), self.Nw, W, H)
                w = self.write(hd).view(b, self.Nw, self.Nw)
                c = c + ((Fy.transpose(1, 2) @ w @ Fx) / g[:, None, None]).reshape(b, -1)
            else:
                c = c + self.write(hd)
        rec = F.binary_cross_entropy_with_logits(c, x, reduction="sum")
        return (rec + kl) / b, rec / b, kl / b


def main():
    ap = parser(__doc__)
    add_int_flags(ap, batch=64, T=16, readN=8, writeN=10, hidden=128, latent=32, attention=1)
    ap.add_argument("--check", action="store_true")
    a = parse(ap)
    model = DRAW(a.T, a.readN, a.writeN, a.hidden, a.latent, bool(a.attention))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(a.batch, 784) > 0.5).float()

    def step():
        opt.zero_grad(set_to_none=True)
        loss, _, _ = model(x)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        return loss

    if a.check:
        print(json.dumps({"losses": [float(step()) for _ in range(5)]}))
        return
    cfg = {"batch": a.batch, "T": a.T, "readN": a.readN, "writeN": a.writeN, "hidden": a.hidden, "latent": a.latent,
           "attention": a.attention}
    m = measure(step, a)
    emit({"engine": "torch", **torch_info(), "params": sum(p.numel() for p in model.parameters()),
          "results": [{**cfg, **m}]})


if __name__ == "__main__":
    main()
