"""Moved to :mod:`toonkit.core.checkpoint` (training and translation both read checkpoints); this name
keeps old imports working."""
from toonkit.core.checkpoint import *  # noqa: F401,F403
from toonkit.core.checkpoint import CheckpointError, NonFiniteWeightsError  # noqa: F401
