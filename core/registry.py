"""The names of the models and what each one is, importable without torch.

The app fills its pickers from here before torch has loaded.
"""

from __future__ import annotations

MODELS: dict[str, str] = {
    "net": "the book's Net: two conv stages (16, 8 channels), tanh, 18,090 parameters",
    "net-width": "NetWidth: Net with 32 and 16 channels",
    "net-dropout": "NetDropout: NetWidth with Dropout2d(0.4) after each conv stage",
    "net-batchnorm": "NetBatchNorm: NetWidth with BatchNorm2d before each tanh",
    "net-depth": "NetDepth: three conv stages with ReLU",
    "net-res": "NetRes: NetDepth with a skip connection around the third stage",
    "net-res-deep": "NetResDeep: n residual blocks (10 by default), each with its own weights",
    "fc-small": "chapter 7's fully connected 3072-512-2 baseline",
    "fc-large": "chapter 7's fully connected 3072-1024-512-128-2 baseline",
}
