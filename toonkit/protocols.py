"""The component protocol: what toonkit may ask of a registered component beyond being built and called.

A component is what its factory returns (an ``nn.Module`` for networks, losses, augmenters and methods).
Besides the calling conventions of its kind (CONTRIBUTING.md, "Adding a component"), toonkit reads a few
optional attributes; each is declared here once, as a :class:`typing.Protocol`, with the one function
every consumer reads it through:

====================  ==========================================  ========================================
attribute             declared by                                 read by (function here)
====================  ==========================================  ========================================
``size_multiple``     generators, maskers (class or instance)     translation, export, mask teachers
                                                                  (:func:`size_multiple`)
``trainable``         a network class with frozen, pretrained     ``--masker NAME``, the test kit
                      weights (``False``)                         (:func:`is_trainable`)
``param_problems``    a factory whose parameters constrain each   recipe validation (:func:`param_check`)
                      other (``VGGFeatures``: arch and layer)
``recipe_problems``   a method class (rules across its blocks)    recipe validation (:func:`recipe_check`)
``example_inputs``    a loss: inputs to check it with             the test kit, tests (:func:`loss_example`)
``example_batch``     a method whose phases read other batches    the test kit (:func:`batch_example`)
``folder``            a registered model (a model folder)         ``toonkit list``, :func:`toonkit.load`
                                                                  (:func:`model_folder`)
====================  ==========================================  ========================================

Example:
    >>> import torch
    >>> class Net(torch.nn.Module):
    ...     size_multiple = 8
    >>> size_multiple(Net()), size_multiple(torch.nn.Identity()), is_trainable(Net)
    (8, 1, True)
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["ChecksParams", "ChecksRecipe", "Frozen", "HasExampleBatch", "HasExampleInputs", "HasFolder",
           "HasSizeMultiple", "batch_example", "is_trainable", "loss_example", "model_folder", "param_check",
           "recipe_check", "size_multiple"]


@runtime_checkable
class HasSizeMultiple(Protocol):
    """A network whose input sides must be multiples of ``size_multiple`` (a U-Net of depth d: 2**d)."""

    size_multiple: int


@runtime_checkable
class Frozen(Protocol):
    """A network class with its own pretrained weights that training never changes (``trainable =
    False``, e.g. the ``mediapipe_selfie`` masker): it can be built by name and used as it is."""

    trainable: bool


@runtime_checkable
class ChecksParams(Protocol):
    """A factory that checks its parameters against each other before anything is built.

    ``param_problems(params)`` returns ``{parameter: message}`` for each problem (a static or class
    method, given the block's parameters with defaults filled in).
    """

    def param_problems(self, params: dict[str, Any]) -> Mapping[str, str]: ...


@runtime_checkable
class ChecksRecipe(Protocol):
    """A method class with rules across its recipe's blocks: ``recipe_problems(recipe)`` returns one
    ``key.path: message`` line per problem (see :meth:`toonkit.methods.base.Method.recipe_problems`)."""

    def recipe_problems(self, recipe: dict[str, Any]) -> list[str]: ...


@runtime_checkable
class HasExampleInputs(Protocol):
    """A loss that says what to call it with: ``example_inputs(size, batch)`` returns its positional
    arguments (tensors, lists of tensors, flags); every floating-point tensor among them must get a
    gradient."""

    def example_inputs(self, size: int, batch: int) -> tuple[Any, ...]: ...


@runtime_checkable
class HasExampleBatch(Protocol):
    """A method whose phases read batches other than ``photo``/``cartoon``/``mask`` images:
    ``example_batch(phase, size, batch)`` returns one for ``phase``."""

    def example_batch(self, phase: str, size: int, batch: int) -> dict[str, Any]: ...


@runtime_checkable
class HasFolder(Protocol):
    """A registered model: ``folder`` is its model folder (``config.json``, weights, card)."""

    folder: Path


def size_multiple(net: object) -> int:
    """``net``'s ``size_multiple`` (1 when it declares none)."""
    return int(getattr(net, "size_multiple", 1) or 1)


def is_trainable(component: object) -> bool:
    """False when ``component`` (a class or an instance) declares ``trainable = False``."""
    return bool(getattr(component, "trainable", True))


def param_check(factory: object) -> Callable[[dict[str, Any]], Mapping[str, str]] | None:
    """The factory's ``param_problems``, or None."""
    check = getattr(factory, "param_problems", None)
    return check if callable(check) else None


def recipe_check(method_cls: object) -> Callable[[dict[str, Any]], list[str]] | None:
    """The method class's ``recipe_problems``, or None."""
    check = getattr(method_cls, "recipe_problems", None)
    return check if callable(check) else None


def loss_example(loss: object) -> Callable[[int, int], tuple[Any, ...]] | None:
    """The loss's ``example_inputs``, or None."""
    example = getattr(loss, "example_inputs", None)
    return example if callable(example) else None


def batch_example(method: object) -> Callable[[str, int, int], dict[str, Any]] | None:
    """The method's ``example_batch``, or None."""
    example = getattr(method, "example_batch", None)
    return example if callable(example) else None


def model_folder(factory: object) -> Path | None:
    """The model folder of a registered model's factory, or None for other components."""
    folder = getattr(factory, "folder", None)
    return Path(folder) if folder is not None else None
