"""What a saved model stores, read within bounds: the recipe in a checkpoint (validated as a recipe, see
:mod:`toonkit.recipe.stored`), and a network's weights, only the tensors the network has, each checked
before it is read.

The network is laid out on the meta device first (:func:`toonkit.methods.assemble.network_state`, which
also refuses one above the size bounds), so what the weights file must hold is known by name, shape and
dtype before a byte of it is loaded (:func:`toonkit.core.state_file.read_state`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from toonkit.core.netcost import NetworkTooLargeError
from toonkit.core.state_file import StateFileError, read_state
from toonkit.methods.assemble import network_state
from toonkit.recipe.errors import RecipeError
from toonkit.recipe.stored import stored_recipe
from toonkit.translate.errors import TranslateError


def one_line(exc: RecipeError) -> TranslateError:
    """A recipe error as one line: its first problem, and how many more there were."""
    more = len(exc.problems) - 1
    return TranslateError(exc.problems[0] + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))


def checkpoint_recipe(ckpt: Any) -> dict[str, Any]:
    """The recipe a checkpoint stores, bounded and validated like a recipe file, as plain data.

    Raises:
        TranslateError: not YAML, not a mapping, too large or deep, or not a valid recipe (one line
            naming the checkpoint).
    """
    try:
        return stored_recipe(ckpt.recipe_yaml, str(ckpt.path)).to_dict()
    except RecipeError as exc:
        raise one_line(exc) from None


def read_net_weights(file: str | Path, net: str, kind: str, block: dict, what: str) -> dict[str, torch.Tensor]:
    """The state dict of network ``net`` (a ``kind`` built from ``block``) from the ``net/…`` tensors of a
    safetensors file, cast to the network's dtypes.

    Raises:
        TranslateError: the network is above the size bounds, or the file lacks, adds or mis-shapes one
            of its tensors, stores a weight as integers, or holds non-finite values.
    """
    try:
        expected = network_state(kind, block)
        return read_state(file, net, expected, what)
    except (NetworkTooLargeError, StateFileError) as exc:
        raise TranslateError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:  # a block the registry cannot build
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TranslateError(f"{what}: cannot rebuild {kind} '{block.get('type')}': {first}") from None
