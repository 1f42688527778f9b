"""What a saved model is (:class:`ModelSpec`), and the one way from a saved model back to its method
(:func:`load_method`).

Training, checkpoints and model folders describe a model the same way: the method's block (its
registered name and parameters), the block of each network, and the training size. A checkpoint stores
the spec as JSON in its metadata (``model``), beside the resolved recipe; a model folder stores the same
fields in ``config.json``. :func:`read_spec` is the one reader of a stored spec (every bound and check on
stored models belongs there), and :func:`load_method` gives the spec back to the constructors that
made it — :func:`~toonkit.methods.assemble.build_block`, the builder training used — and loads the
weights, as timm and smp rebuild a model from its saved config. Translation, export, model folders, the
bench and ``--masker RUN`` all load this way.

Example:
    >>> from toonkit.methods.assemble import assemble, default_recipe
    >>> recipe = default_recipe("cartoongan", {"nets.generator": {"base_channels": 4, "res_blocks": 1},
    ...                                        "nets.feature": {"weights": "random"}})
    >>> trained = assemble(recipe)
    >>> weights = {slot: net.state_dict() for slot, net in trained.net.items()}
    >>> spec = ModelSpec.from_recipe(recipe)
    >>> method = load_method(spec, weights)  # what translation needs: the generator, in eval mode
    >>> sorted(method.net), method.training
    (['generator'], False)
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import torch
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from torch import nn

from toonkit.core.checkpoint import nonfinite_tensors
from toonkit.errors import ModelError, first_line
from toonkit.methods.assemble import build_block, method_class
from toonkit.methods.base import SECTIONS, Method
from toonkit.recipe.limits import value_problem
from toonkit.recipe.schema import MAX_SIDE
from toonkit.registry import Registry, did_you_mean

if TYPE_CHECKING:
    from toonkit.recipe import Recipe

__all__ = ["SPEC_FIELDS", "ModelSpec", "build_net", "load_method", "read_spec"]

#: the fields of a stored spec (a model folder's ``config.json`` holds them beside its own)
SPEC_FIELDS = ("method", "size", "nets", "losses", "augment")


def _typed_block(block: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(block.get("type"), str) or not block["type"]:
        raise ValueError("a block needs a 'type' naming a registered component")
    return block


Block = Annotated[dict[str, Any], AfterValidator(_typed_block)]


class ModelSpec(BaseModel):
    """A model as training made it: the method's block, its networks' blocks, the training size.

    Attributes:
        method: ``{"type": name, **params}`` of the method.
        size: the training crop size (translation runs the generator at a multiple of it).
        nets: the block of each ``nets`` slot whose network the model holds (a model folder: only the
            ones translation uses).
        losses, augment: the method's loss and augmenter blocks (checkpoints; empty in model folders).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    method: Block
    size: int = Field(ge=1, le=MAX_SIDE, strict=True)
    nets: dict[str, Block]
    losses: dict[str, Block] = Field(default_factory=dict)
    augment: dict[str, Block] = Field(default_factory=dict)

    @classmethod
    def from_recipe(cls, recipe: Recipe) -> ModelSpec:
        """The spec of what ``recipe`` trains (the trainer stores it in every checkpoint)."""
        spec = recipe.spec

        def blocks(section: dict[str, Any]) -> dict[str, Any]:
            return {slot: dict(block) for slot, block in section.items() if block is not None}

        return cls(method=dict(spec.method), size=spec.data.size, nets=blocks(spec.nets),
                   losses=blocks(spec.losses), augment=blocks(spec.augment))

    @property
    def method_name(self) -> str:
        """The method's registered name."""
        return str(self.method["type"])

    def method_class(self, registry: Registry | None = None, where: str = "the model") -> type[Method]:
        """The registered method class the spec names.

        Raises:
            ModelError: no method of that name is registered (a plugin's method whose plugin is not
                installed, say); the message lists close names.
        """
        try:
            return method_class(self.method_name, registry)
        except KeyError as exc:
            raise ModelError(f"{where}: {first_line(exc)}") from None

    def for_translation(self, masker: bool = True, registry: Registry | None = None) -> ModelSpec:
        """The spec of a model folder: only the networks translation uses (the method's
        :attr:`~toonkit.methods.base.Roles.translation` slots; the masker's only when ``masker``)."""
        roles = self.method_class(registry).roles
        keep = [s for s in roles.translation if s in self.nets and (masker or s != roles.masker)]
        return ModelSpec(method=self.method, size=self.size, nets={s: self.nets[s] for s in keep})

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-ready data (``losses`` and ``augment`` only when not empty)."""
        data = self.model_dump(mode="json")
        return {k: v for k, v in data.items() if v or k not in ("losses", "augment")}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def read_spec(data: str | Mapping[str, Any], where: str, registry: Registry | None = None) -> ModelSpec:
    """A stored spec, checked: the one reader of what checkpoints and model folders say a model is.

    Checks that ``data`` is an object whose ``method`` names a registered method, whose ``size`` is an
    integer in 1..16384, and whose every block names a slot of that method, a component ``type``, and
    parameter values within the bounds recipes have (a tampered ``config.json`` asking for a network of
    2**40 channels is one line, not an allocation). Keys other than :data:`SPEC_FIELDS` are left to the
    caller (a model folder's name and card facts).

    Args:
        data: the spec as JSON text or as its parsed object.
        where: the file it was read from, for messages.
        registry: where methods are looked up (default: the process-wide registry).

    Raises:
        ModelError: one line ``where: key.path: what is wrong``.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ModelError(f"{where}: not readable JSON ({first_line(exc)})") from None
    if not isinstance(data, Mapping):
        raise ModelError(f"{where}: expected a JSON object, got {type(data).__name__}")
    try:
        spec = ModelSpec.model_validate({k: data[k] for k in SPEC_FIELDS if k in data})
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"])
        raise ModelError(f"{where}: {path}: {error['msg']}") from None
    cls = spec.method_class(registry, where)
    for section in SECTIONS:
        table = cls.slots(section)
        for slot, block in getattr(spec, section).items():
            if slot not in table:
                raise ModelError(f"{where}: {section}.{slot}: method '{spec.method_name}' has no such slot"
                                 f"{did_you_mean(slot, list(table))} (slots: {', '.join(table) or 'none'})")
            for key, value in block.items():
                why = value_problem(key, value, table[slot].kind) if key != "type" else None
                if why:
                    raise ModelError(f"{where}: {section}.{slot}.{key} {why}")
    return spec


def build_net(kind: str, block: dict[str, Any], state: Mapping[str, torch.Tensor] | None, where: str,
              registry: Registry | None = None) -> nn.Module:
    """The network ``block`` names, built as training built it, with ``state`` loaded (strictly), in
    eval mode. ``state`` None keeps the weights the network brings itself (a frozen feature extractor).

    Raises:
        ModelError: the block cannot be built, ``state`` holds NaN or infinity, or it does not fit.
    """
    try:
        net = build_block(kind, block, registry)
    except Exception as exc:  # noqa: BLE001 - an unknown name, a bad parameter, a plugin's own error
        raise ModelError(f"{where}: cannot build {kind} '{block.get('type')}': {first_line(exc)}") from None
    if state is not None:
        bad = nonfinite_tensors(dict(state))
        if bad:
            raise ModelError(f"{where}: non-finite weights ({bad[0]}): the model is damaged")
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelError(f"{where}: the stored weights do not fit {kind} '{block.get('type')}': "
                             f"{first_line(exc)}") from None
    return net.eval()


def load_method(spec: ModelSpec, weights: Mapping[str, Mapping[str, torch.Tensor]], inference: bool = True, *,
                nets: Sequence[str] | None = None, registry: Registry | None = None,
                where: str = "the model") -> Method:
    """The method ``spec`` describes, rebuilt through the constructors that made it, with ``weights``.

    Args:
        spec: what to build (:func:`read_spec`, :meth:`ModelSpec.from_recipe`).
        weights: state dicts by ``nets`` slot, as checkpoints and model folders store them.
        inference: build what translation needs — the networks of the method's
            :attr:`~toonkit.methods.base.Roles.translation` slots the spec holds — in eval mode. False
            builds every block of the spec (losses and augmenters too) in training mode, as
            :func:`~toonkit.methods.assemble.assemble` does, with the stored weights.
        nets: build exactly these ``nets`` slots instead (``--masker RUN`` needs only the run's masker).
        registry: where components are looked up (default: the process-wide registry).
        where: the file the model came from, for messages.

    Returns:
        the method with its networks bound and loaded. A network whose slot is trainable must have its
        weights in ``weights``; a frozen one (``trainable=False`` slot) without them keeps its own.

    Raises:
        ModelError: an unknown method or component, a missing network or weights, weights that do not
            fit their network or hold NaN/infinity; one line naming ``where`` and the slot.
    """
    cls = spec.method_class(registry, where)
    if nets is None:
        nets = [s for s in cls.roles.translation if s in spec.nets] if inference else list(spec.nets)
        nets = nets if cls.roles.generator in nets else [cls.roles.generator, *nets]  # refused below
    built: dict[str, nn.Module] = {}
    for slot in nets:
        if slot not in spec.nets:
            raise ModelError(f"{where}: holds no '{slot}' network, which method '{spec.method_name}' "
                             f"{'translates with' if slot == cls.roles.generator else 'needs here'} "
                             f"(it has: {', '.join(spec.nets) or 'none'})")
        declared = cls.slots("nets").get(slot)
        if declared is None:
            raise ModelError(f"{where}: nets.{slot}: method '{spec.method_name}' has no such slot")
        state = weights.get(slot)
        if state is None and declared.trainable:
            raise ModelError(f"{where}: no weights stored for network '{slot}'")
        built[slot] = build_net(declared.kind, spec.nets[slot], state, f"{where}: nets.{slot}", registry)
    try:
        method = build_block("method", spec.method, registry)
    except Exception as exc:  # noqa: BLE001 - a parameter the method no longer takes, say
        raise ModelError(f"{where}: cannot build method '{spec.method_name}': {first_line(exc)}") from None
    losses: dict[str, nn.Module] = {}
    augment: dict[str, nn.Module] = {}
    if not inference:
        for section, out in (("losses", losses), ("augment", augment)):
            table = cls.slots(section)
            for slot, block in getattr(spec, section).items():
                try:
                    out[slot] = build_block(table[slot].kind, block, registry)
                except Exception as exc:  # noqa: BLE001 - as for networks: one line naming the block
                    raise ModelError(f"{where}: {section}.{slot}: cannot build {table[slot].kind} "
                                     f"'{block.get('type')}': {first_line(exc)}") from None
    method.bind(built, losses, augment)
    return method.eval() if inference else method.train()
