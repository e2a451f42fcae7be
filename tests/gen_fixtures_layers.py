#!/usr/bin/python3
"""Reference fixtures for the shared layers (src/layers.h), from PyTorch.

Run with Debian's PyTorch (not the pyenv python):  /usr/bin/python3 tests/gen_fixtures_layers.py
Writes
  tests/fixtures/layers.json        the same numbers as JSON (for wasm-side tests, if any),
  tests/fixtures/layers_fixture.h   the same numbers as C arrays, #included by
                                    tests/native/test_layers.c (so the native test needs no JSON parser).
Tests never run PyTorch.

Cases (all float32; gradients from autograd of sum(out * R) for a random R = "dout"):
  conv2d      F.conv2d stride 1, no padding: out, dx, dw, db.
  linear      F.linear: out, dx, dw, db.
  maxpool     F.max_pool2d(x, 2) with odd H and W (last row/column dropped), distinct values
              (no ties): out, flat argmax indices within each plane, dx.
  xent        F.cross_entropy (= nll_loss(log_softmax)), mean over batch: log_softmax, loss, dlogits.
  lstm        nn.LSTMCell (gate order i, f, g, o); our single bias b = bias_ih + bias_hh.
              loss = sum(h1 * Rh) + sum(c1 * Rc): h1, c1, dx, dh0, dc0, dWih, dWhh, db.
  bce         F.binary_cross_entropy_with_logits(reduction='sum'): loss, dz.
  adam        torch.optim.Adam(lr, betas, eps, weight_decay), two steps with two gradients.
  sgd         torch.optim.SGD(lr, momentum, weight_decay), two steps.
  clip        torch.nn.utils.clip_grad_norm_: returned norm and clipped gradient (one case clips,
              one does not).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(20240612)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_JSON = os.path.join(HERE, 'fixtures', 'layers.json')
OUT_H = os.path.join(HERE, 'fixtures', 'layers_fixture.h')

tensors = {}  # name -> flat list of floats
ints = {}     # name -> flat list of ints
dims = {}     # name -> int


def put(name, t):
    tensors[name] = [float(v) for v in t.detach().reshape(-1).tolist()]


def rand(*shape, lo=-1.0, hi=1.0):
    return (torch.rand(*shape) * (hi - lo) + lo).float()


# conv2d
N, C, H, W, O, K = 2, 3, 8, 7, 4, 3
dims.update(conv_N=N, conv_C=C, conv_H=H, conv_W=W, conv_O=O, conv_K=K)
x = rand(N, C, H, W).requires_grad_()
w = rand(O, C, K, K, lo=-0.5, hi=0.5).requires_grad_()
b = rand(O).requires_grad_()
y = F.conv2d(x, w, b)
R = rand(*y.shape)
(y * R).sum().backward()
for n, t in [('conv_x', x), ('conv_w', w), ('conv_b', b), ('conv_out', y), ('conv_dout', R),
             ('conv_dx', x.grad), ('conv_dw', w.grad), ('conv_db', b.grad)]:
    put(n, t)

# linear
B, I, O = 3, 7, 5
dims.update(lin_B=B, lin_I=I, lin_O=O)
x = rand(B, I).requires_grad_()
w = rand(O, I).requires_grad_()
b = rand(O).requires_grad_()
y = F.linear(x, w, b)
R = rand(B, O)
(y * R).sum().backward()
for n, t in [('lin_x', x), ('lin_w', w), ('lin_b', b), ('lin_out', y), ('lin_dout', R),
             ('lin_dx', x.grad), ('lin_dw', w.grad), ('lin_db', b.grad)]:
    put(n, t)

# maxpool: distinct values (a permutation of a grid), odd H and W
N, C, H, W = 2, 2, 7, 5
dims.update(pool_N=N, pool_C=C, pool_H=H, pool_W=W)
vals = (torch.randperm(N * C * H * W).float() * 0.01 - 0.3).reshape(N, C, H, W)
x = vals.clone().requires_grad_()
y, idx = F.max_pool2d(x, 2, return_indices=True)
R = rand(*y.shape)
(y * R).sum().backward()
put('pool_x', x); put('pool_out', y); put('pool_dout', R); put('pool_dx', x.grad)
ints['pool_idx'] = [int(v) for v in idx.reshape(-1).tolist()]

# cross-entropy
B, Cc = 5, 7
dims.update(xent_B=B, xent_C=Cc)
z = rand(B, Cc, lo=-3, hi=3).requires_grad_()
labels = torch.randint(0, Cc, (B,))
loss = F.cross_entropy(z, labels)
loss.backward()
put('xent_logits', z); put('xent_logp', F.log_softmax(z.detach(), dim=1)); put('xent_dlogits', z.grad)
tensors['xent_loss'] = [float(loss)]
ints['xent_labels'] = [int(v) for v in labels.tolist()]

# LSTMCell
B, I, Hd = 3, 5, 4
dims.update(lstm_B=B, lstm_I=I, lstm_H=Hd)
cell = torch.nn.LSTMCell(I, Hd)
x = rand(B, I).requires_grad_()
h0 = rand(B, Hd).requires_grad_()
c0 = rand(B, Hd).requires_grad_()
h1, c1 = cell(x, (h0, c0))
Rh, Rc = rand(B, Hd), rand(B, Hd)
((h1 * Rh).sum() + (c1 * Rc).sum()).backward()
put('lstm_x', x); put('lstm_h0', h0); put('lstm_c0', c0)
put('lstm_Wih', cell.weight_ih); put('lstm_Whh', cell.weight_hh); put('lstm_b', cell.bias_ih + cell.bias_hh)
put('lstm_h1', h1); put('lstm_c1', c1); put('lstm_Rh', Rh); put('lstm_Rc', Rc)
put('lstm_dx', x.grad); put('lstm_dh0', h0.grad); put('lstm_dc0', c0.grad)
put('lstm_dWih', cell.weight_ih.grad); put('lstm_dWhh', cell.weight_hh.grad); put('lstm_db', cell.bias_ih.grad)

# BCE with logits, summed
n = 11
dims.update(bce_n=n)
z = rand(n, lo=-6, hi=6).requires_grad_()
t = torch.rand(n)
loss = F.binary_cross_entropy_with_logits(z, t, reduction='sum')
loss.backward()
put('bce_z', z); put('bce_t', t); put('bce_dz', z.grad)
tensors['bce_loss'] = [float(loss)]

# Adam, two steps
n = 9
dims.update(opt_n=n)
p = torch.nn.Parameter(rand(n))
g1, g2 = rand(n), rand(n) * 0.1
put('adam_p0', p); put('adam_g1', g1); put('adam_g2', g2)
opt = torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
p.grad = g1.clone(); opt.step(); put('adam_p1', p)
p.grad = g2.clone(); opt.step(); put('adam_p2', p)

# SGD with momentum, two steps
p = torch.nn.Parameter(rand(n))
put('sgd_p0', p); put('sgd_g1', g1); put('sgd_g2', g2)
opt = torch.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=0.01)
p.grad = g1.clone(); opt.step(); put('sgd_p1', p)
p.grad = g2.clone(); opt.step(); put('sgd_p2', p)

# gradient clipping
for tag, max_norm in [('clip1', 0.5), ('clip2', 100.0)]:
    p = torch.nn.Parameter(torch.zeros(n))
    p.grad = rand(n)
    put(tag + '_g', p.grad)
    norm = torch.nn.utils.clip_grad_norm_([p], max_norm)
    put(tag + '_out', p.grad)
    tensors[tag + '_norm'] = [float(norm)]
    tensors[tag + '_max'] = [max_norm]

os.makedirs(os.path.dirname(OUT_JSON), exist_ok=True)
with open(OUT_JSON, 'w') as f:
    json.dump({'generator': 'tests/gen_fixtures_layers.py', 'torch': torch.__version__, 'dims': dims,
               'tensors': tensors, 'ints': ints}, f, separators=(',', ':'))

with open(OUT_H, 'w') as f:
    f.write('/* Generated by tests/gen_fixtures_layers.py (torch %s). Do not edit. */\n' % torch.__version__)
    f.write('#ifndef LAYERS_FIXTURE_H\n#define LAYERS_FIXTURE_H\n#include <stdint.h>\n')
    for k, v in dims.items():
        f.write('#define FX_%s %d\n' % (k, v))
    for k, v in tensors.items():
        f.write('static const float fx_%s[%d] = {%s};\n' % (k, len(v), ','.join('%.9g' % e for e in v)))
    for k, v in ints.items():
        f.write('static const int32_t fx_%s[%d] = {%s};\n' % (k, len(v), ','.join(str(e) for e in v)))
    f.write('#endif\n')
print('wrote', OUT_JSON, os.path.getsize(OUT_JSON), 'bytes and', OUT_H, os.path.getsize(OUT_H), 'bytes')
