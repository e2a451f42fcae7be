#!/usr/bin/python3
"""PyTorch interchange fixtures for the STN (safetensors both ways), from PyTorch 1.13.

Run with Debian's PyTorch:  /usr/bin/python3 tests/gen_fixtures_safetensors.py
(it also runs `node tests/gen_safetensors_glimpse.mjs` for the other direction). Writes, in
tests/fixtures/ (read by tests/safetensors.test.js; tests never run PyTorch):

  stn_tutorial.safetensors   the state_dict of the PyTorch STN tutorial's Net after 120 SGD steps (lr 0.01, momentum 0.9)
                             in PyTorch (written by the few lines of write_safetensors below: the
                             format is a JSON header plus raw little-endian data; no metadata)
  stn_glimpse.safetensors    a model trained 120 steps here (g.createSTN, SGD), saved with
                             save({ format: 'safetensors' }) by tests/gen_safetensors_glimpse.mjs
  stn_interop.json           PyTorch's log-probabilities on the first 500 test digits of
                             data/mnist-10k.bin.gz for both files (the second loaded into the
                             tutorial Net with load_state_dict(strict=True)), and the indices.

The check that glimpse's own predictions for stn_glimpse.safetensors match PyTorch's is made here
as well (the script fails otherwise), so the committed fixture records a verified agreement.
"""
import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(HERE, 'fixtures')
sys.path.insert(0, os.path.join(HERE, 'bench'))
from torch_stn_net import Net  # noqa: E402  the tutorial's network, shared with the benchmarks

N_EVAL = 500
torch.set_num_threads(1)
torch.manual_seed(20150605)


def load_digits():
    """data/mnist-10k.bin.gz ("GLMN": count, rows, cols, train count, labels, pixels)."""
    with gzip.open(os.path.join(ROOT, 'data', 'mnist-10k.bin.gz'), 'rb') as f:
        b = f.read()
    count, rows, cols, ntrain = struct.unpack_from('<IHHI', b, 4)
    labels = np.frombuffer(b, np.uint8, count, 16).astype(np.int64)
    px = np.frombuffer(b, np.uint8, count * rows * cols, 16 + count).astype(np.float32) / 255
    images = torch.from_numpy(px.reshape(count, 1, rows, cols).copy())
    return images[:ntrain], torch.from_numpy(labels[:ntrain].copy()), images[ntrain:], torch.from_numpy(labels[ntrain:].copy())


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def read_safetensors(path):
    with open(path, 'rb') as f:
        b = f.read()
    (n,) = struct.unpack_from('<Q', b, 0)
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        lo, hi = e['data_offsets']
        assert e['dtype'] == 'F32', e
        out[name] = torch.from_numpy(np.frombuffer(data[lo:hi], '<f4').copy().reshape(e['shape']))
    return out, header.get('__metadata__', {})


def main():
    xtr, ytr, xte, yte = load_digits()
    evalx = xte[:N_EVAL]
    # PyTorch -> glimpse: 120 SGD steps (lr 0.01, momentum 0.9, batch 64), then the state_dict
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    net.train()
    for step in range(120):
        i = torch.arange(step * 64, (step + 1) * 64)
        opt.zero_grad()
        loss = F.nll_loss(net(xtr[i]), ytr[i])
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        torch_logp = net(evalx)
    write_safetensors(os.path.join(FIX, 'stn_tutorial.safetensors'), net.state_dict())

    # glimpse -> PyTorch: a model trained here, loaded into the tutorial Net
    glimpse_path = os.path.join(FIX, 'stn_glimpse.safetensors')
    ours_path = os.path.join(FIX, 'stn_glimpse_logp.tmp.json')
    subprocess.run(['node', os.path.join(HERE, 'gen_safetensors_glimpse.mjs'), glimpse_path, ours_path, str(N_EVAL)], check=True)
    tensors, meta = read_safetensors(glimpse_path)
    net2 = Net()
    net2.load_state_dict(tensors, strict=True)
    net2.eval()
    with torch.no_grad():
        torch_logp2 = net2(evalx)
    with open(ours_path) as f:
        ours = torch.tensor(json.load(f)['logp']).view(N_EVAL, 10)
    os.remove(ours_path)
    diff = (torch_logp2 - ours).abs().max().item()
    same = (torch_logp2.argmax(1) == ours.argmax(1)).float().mean().item()
    print(f'glimpse -> PyTorch: max |log p difference| {diff:.2e}, same labels {same * 100:.1f} %')
    assert diff < 1e-4 and same == 1.0, 'a model trained in glimpse does not predict the same in PyTorch'

    fixture = {
        'generator': 'tests/gen_fixtures_safetensors.py (torch %s)' % torch.__version__,
        'evalCount': N_EVAL,
        'evalDigits': 'the first %d test digits of data/mnist-10k.bin.gz (loadMnist().test)' % N_EVAL,
        'tutorial': {'file': 'stn_tutorial.safetensors', 'logp': [round(float(v), 7) for v in torch_logp.flatten()],
                     'accuracy': float((torch_logp.argmax(1) == yte[:N_EVAL]).float().mean())},
        'glimpse': {'file': 'stn_glimpse.safetensors', 'metadata': meta, 'torchLogp': [round(float(v), 7) for v in torch_logp2.flatten()],
                    'maxDiffAtGeneration': diff},
    }
    with open(os.path.join(FIX, 'stn_interop.json'), 'w') as f:
        json.dump(fixture, f)
    print('tutorial Net accuracy on the %d digits: %.3f' % (N_EVAL, fixture['tutorial']['accuracy']))


if __name__ == '__main__':
    main()
