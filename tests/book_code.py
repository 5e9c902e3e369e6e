"""The book's chapter-8 models as the book publishes them, and its parameter counts, kept
apart from ours: the tests move state_dicts between these and core's models and check our
counts against the book's, and the benchmarks train BookNet the notebook's way. One copy,
so the reference cannot drift between the two."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Each model's parameter count as the book gives it (../shared/reference/book-facts.md).
BOOK_PARAMS = {
    "net": 18_090,
    "net-width": 38_386,
    "net-dropout": 38_386,
    "net-batchnorm": 38_482,
    "net-depth": 16_130,
    "net-res": 16_130,
    "fc-small": 1_574_402,
    "fc-large": 3_737_474,
}


class BookNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 8, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(8 * 8 * 8, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = out.view(-1, 8 * 8 * 8)
        out = torch.tanh(self.fc1(out))
        out = self.fc2(out)
        return out


class BookResBlock(nn.Module):
    def __init__(self, n_chans):
        super().__init__()
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(num_features=n_chans)
        torch.nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        torch.nn.init.constant_(self.batch_norm.weight, 0.5)
        torch.nn.init.zeros_(self.batch_norm.bias)

    def forward(self, x):
        out = self.conv(x)
        out = self.batch_norm(out)
        out = torch.relu(out)
        return out + x


class BookNetResDeep(nn.Module):
    """The book's NetResDeep, but with a fresh block per position (what the text means;
    the book's `n_blocks * [ResBlock(...)]` repeats one object and saves its keys once per
    position all the same)."""

    def __init__(self, n_chans1=32, n_blocks=10):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.resblocks = nn.Sequential(*[BookResBlock(n_chans=n_chans1) for _ in range(n_blocks)])
        self.fc1 = nn.Linear(8 * 8 * n_chans1, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        out = self.resblocks(out)
        out = F.max_pool2d(out, 2)
        out = out.view(-1, 8 * 8 * self.n_chans1)
        out = torch.relu(self.fc1(out))
        out = self.fc2(out)
        return out
