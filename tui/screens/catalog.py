"""The app's screens, in one list: the App's modes, the keys 1-5, the nav bar, the palette,
and the help screen's line on what each screen is for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenEntry:
    """One screen: its mode name, its key, its title, where its class lives, and what it is
    for (one line, shown by the help screen)."""

    mode: str
    key: str
    title: str
    module: str  # under cnn_tui.tui.screens
    cls: str
    purpose: str


SCREENS = (
    ScreenEntry(
        "train",
        "1",
        "Train",
        "train",
        "TrainScreen",
        "Train a model on CIFAR-2 and watch its loss and accuracy",
    ),
    ScreenEntry(
        "model",
        "2",
        "Model",
        "model",
        "ModelScreen",
        "The models' layers and shapes; load and compare weights",
    ),
    ScreenEntry(
        "predict",
        "3",
        "Predict",
        "predict",
        "PredictScreen",
        "Classify validation images, files or a folder",
    ),
    ScreenEntry(
        "explore",
        "4",
        "Explore",
        "explore",
        "ExploreScreen",
        "Feature maps, learned kernels and a kernel playground",
    ),
    ScreenEntry(
        "runs",
        "5",
        "Runs",
        "runs",
        "RunsScreen",
        "Past and live runs: open, compare, resume, export, delete",
    ),
)
