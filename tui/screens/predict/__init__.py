"""The Predict screen (key 3): what the current weights make of an image, a folder, the
validation set.

- Validation: every validation image with its true label, the prediction and the
  confidence; filters (wrong only, by class, least confident first); arrows browse.
- Files: a directory tree of image files (or a typed path); the highlighted file is
  classified at once.
- Folder: every image of a folder, classified in a thread worker as a stream of rows
  while the rest of the app stays usable.
- Mistakes: the confusion matrix and the most confident mistakes (fastai's top losses).
- Fooled: pictures of the classes the weights do not know that they are sure of.

The picked image is shown large beside its class probabilities (widgets/picture.py) and
kept as the session's `picked_image` for the Explore screen. torch runs only in thread
workers, through the session's `predicting` (one predictor and data set for the app).

On the picked image, whatever the tab: `g` covers it with what the model looked at
(Grad-CAM, looked), `a` opens the attack view (attack: the chapter's second exercise).

The package's parts: screen (keys, layout, the validation set scored), base (what the tabs
share), one module per tab (validation, files, folder, mistakes, fooled), looked and attack;
PredictScreen derives from each tab's part and from looked's.
"""

from cnn_tui.tui.screens.predict.screen import PredictScreen
from cnn_tui.tui.screens.predict.validation import LIST_PAGE

__all__ = ["LIST_PAGE", "PredictScreen"]
