"""torch_stn_net.py: the PyTorch spatial transformer tutorial's network, once, for the scripts that
run it in PyTorch (tests/bench/torch_stn_train.py, tests/bench/export_stn_onnx.py,
tests/gen_fixtures_safetensors.py). The tutorial is
pytorch.org/tutorials/intermediate/spatial_transformer_tutorial.html; its layer sizes are
src/stn_model.c's defaults, and its module names are the state_dict names g.loadSTN reads.

  localisation  conv 8@7x7 -> maxpool 2 -> ReLU -> conv 10@5x5 -> maxpool 2 -> ReLU
  fc_loc        FC 32 -> ReLU -> FC 6 (zero weight, identity bias)
  sampler       F.affine_grid + F.grid_sample (bilinear, zeros, align_corners=False)
  classifier    conv 10@5x5 -> maxpool -> ReLU -> conv 20@5x5 -> Dropout2d -> maxpool -> ReLU
                -> FC 50 -> ReLU -> dropout -> FC 10 -> log_softmax

Net(size=28, transform=True): size is the input side (the tutorial's is 28); transform=False is the
plain CNN (no localisation net, no sampler). The modules are created in the tutorial's order, so a
given torch.manual_seed gives the tutorial's initial weights.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, size=28, transform=True):
        super().__init__()
        self.size, self.transform = size, transform
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        s = ((size - 4) // 2 - 4) // 2
        self.flat = 20 * s * s  # 320 at 28x28
        self.fc1 = nn.Linear(self.flat, 50)
        self.fc2 = nn.Linear(50, 10)
        if transform:
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            l = ((size - 6) // 2 - 4) // 2
            self.lflat = 10 * l * l  # 90 at 28x28
            self.fc_loc = nn.Sequential(nn.Linear(self.lflat, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
            with torch.no_grad():
                self.fc_loc[2].weight.zero_()
                self.fc_loc[2].bias.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def theta(self, x):
        """[N, 2, 3] from the localisation net."""
        return self.fc_loc(self.localization(x).view(-1, self.lflat)).view(-1, 2, 3)

    def grid(self, theta):
        """[N, size, size, 2] sampling grid for theta (a subclass may compute it another way)."""
        return F.affine_grid(theta, [theta.shape[0], 1, self.size, self.size], align_corners=False)

    def stn(self, x):
        return F.grid_sample(x, self.grid(self.theta(x)), align_corners=False)

    def forward(self, x):
        if self.transform:
            x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, self.flat)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)
