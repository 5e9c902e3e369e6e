"""The app's screens, in one list: the App's modes, the keys 1-5, the nav bar, the palette."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenEntry:
    """One screen: its mode name, its key, its title, and where its class lives."""

    mode: str
    key: str
    title: str
    module: str  # under cnn_tui.tui.screens
    cls: str


SCREENS = (
    ScreenEntry("train", "1", "Train", "train", "TrainScreen"),
    ScreenEntry("model", "2", "Model", "model", "ModelScreen"),
    ScreenEntry("predict", "3", "Predict", "predict", "PredictScreen"),
    ScreenEntry("explore", "4", "Explore", "explore", "ExploreScreen"),
    ScreenEntry("runs", "5", "Runs", "runs", "RunsScreen"),
)
