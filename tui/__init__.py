"""The front ends: the Textual app and the command line beside it."""

import time

STARTED = time.perf_counter()  # when cnn-tui's own code began: `train` times its start from here
