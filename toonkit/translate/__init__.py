"""Translation: cartoonise images with a trained run (or neural style transfer), composite backgrounds,
export generators to ONNX and TorchScript.

Example:
    >>> import toonkit
    >>> toon = toonkit.load("runs/quickstart")  # doctest: +SKIP
    >>> toon.translate(Image.open("me.jpg"), background="white").save("me_toon.png")  # doctest: +SKIP
"""
from toonkit.translate.api import Cartoonizer, MaskerRequiredError, TranslateError
from toonkit.translate.loading import load, load_masker
from toonkit.translate.background import BACKGROUNDS, NEEDS_MASK, composite, gaussian_blur

__all__ = ["BACKGROUNDS", "NEEDS_MASK", "Cartoonizer", "MaskerRequiredError", "TranslateError", "composite",
           "gaussian_blur", "load", "load_masker"]
