"""The engine of cnn-tui: models, data, training, runs, weights, inspection, prediction.

Nothing here imports Textual; everything the app shows can be had from these modules.
Modules import torch lazily where they can, so the app's first frame does not wait for it.
"""
