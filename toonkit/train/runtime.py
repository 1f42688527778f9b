"""Moved to :mod:`toonkit.core.runtime` (training and translation both pick devices and precisions);
this name keeps old imports working."""
from toonkit.core.runtime import *  # noqa: F401,F403
