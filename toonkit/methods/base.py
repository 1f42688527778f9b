"""What a training method is: the components it needs, its phases, and a ``train_step``.

A method never touches devices, AMP, DDP, checkpoints or logging: the trainer owns them and hands the
method a :class:`~toonkit.methods.context.StepContext` whose ``optimize`` does backward, scaling,
clipping and the optimiser step for a named group of networks.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

import torch
from torch import nn

from toonkit.methods.context import StepContext

SECTIONS = ("nets", "losses", "augment")


@dataclass(frozen=True)
class Slot:
    """A component a method needs.

    Args:
        kind: registry kind (``generator``, ``masker``, ``loss`` ...).
        default: component name used when the recipe does not name one (None: the recipe must).
        params: default parameters for that default component.
        trainable: whether the trainer makes an optimiser for it (nets only).
        optional: the recipe may set it to ``null`` to leave it out.
    """

    kind: str
    default: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    trainable: bool = True
    optional: bool = False


@dataclass(frozen=True)
class Phase:
    """A training phase: which networks it optimises and which batch it reads.

    Args:
        name: the phase's name (recipes set its length under ``train.phases.<name>``).
        trains: the network slots it optimises.
        data: the batches it reads: ``photos`` (photo [+ mask]), ``cartoons`` (cartoon [+ smoothed
            twin]) or ``unpaired`` (both).
        epochs, steps: its default length when the recipe gives none (steps win).
        summary: one line for ``toonkit list method --params`` and reports.
        masks: its photo batches carry person masks (``batch["mask"]``); the trainer then requires
            ``data.masks`` or a ``data.mask_teacher`` when the phase runs.
    """

    name: str
    trains: tuple[str, ...]
    data: str = "unpaired"
    epochs: float | None = 1
    steps: int | None = None
    summary: str = ""
    masks: bool = False


@dataclass(frozen=True)
class Roles:
    """The parts a method's slots play outside its own ``train_step``: what training keeps an EMA of and
    samples, what translation, export and model folders use, what the data pipeline prepares.

    Code outside a method never names a slot or phase literally: it asks the method's :attr:`Method.roles`
    (and :attr:`Method.phases`, whose order is also the order reports show phases in).

    Args:
        generator: the ``nets`` slot that turns photos into cartoons (EMA-averaged in training, saved in
            model folders, exported).
        masker: the ``nets`` slot of a person masker that translation may use for its background modes
            (None: the method has none).
        smoothing: the ``augment`` slot that makes each cartoon's edge-smoothed twin; the data pipeline
            computes it once per image and caches it (``batch["smooth"]``); None when the method uses none.

    Example:
        >>> Roles(masker="masker", smoothing="edge_smooth").translation
        ('generator', 'masker')
    """

    generator: str = "generator"
    masker: str | None = None
    smoothing: str | None = None

    @property
    def translation(self) -> tuple[str, ...]:
        """The ``nets`` slots a translator needs: the generator, then the masker when there is one."""
        return (self.generator,) + ((self.masker,) if self.masker else ())


@contextlib.contextmanager
def frozen(*modules: nn.Module) -> Iterator[tuple[nn.Module, ...]]:
    """The networks with their weights taken out of autograd for the block: for a loss that passes
    through a network another update trains (G's adversarial loss through D).

    Gradients still flow through them to their inputs, but their own weight gradients, which the other
    network's next ``optimize`` would discard anyway, are never computed: that is one weight-gradient
    convolution per layer less (7 % of a pix2pix step at 256²). Under autocast it also makes the block
    see the weights as they are now: autocast caches its low-precision copies of weights that require
    grad, so right after an optimiser step they would still be the pre-step copies. Yields the networks
    unwrapped from DDP (no gradient of theirs is synchronised here).

    Example:
        >>> with frozen(D) as (d,):  # doctest: +SKIP
        ...     g_adv = adversarial(d(fake), True, for_discriminator=False)
    """
    inner = tuple(getattr(m, "module", m) if isinstance(m, nn.parallel.DistributedDataParallel) else m
                  for m in modules)
    params = [p for m in inner for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield inner
    finally:
        for p in params:
            p.requires_grad_(True)


class Method(nn.Module):
    """Base class of training methods.

    Subclasses set :attr:`nets`, :attr:`losses`, :attr:`augment` (slot tables), :attr:`phases` (in the
    order they run, which is also the order reports show them in), :attr:`roles` when their slots are
    not the defaults', and implement :meth:`train_step`. Keyword arguments of ``__init__`` are the
    method's recipe parameters. A subclass whose roles or phases name a slot it lacks fails when it is
    defined.
    """

    nets: ClassVar[dict[str, Slot]] = {}
    losses: ClassVar[dict[str, Slot]] = {}
    augment: ClassVar[dict[str, Slot]] = {}
    phases: ClassVar[tuple[Phase, ...]] = ()
    roles: ClassVar[Roles] = Roles()
    trainable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        problems = check_roles(cls)
        if problems:
            raise TypeError(f"method {cls.__name__}: " + "; ".join(problems))

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.ModuleDict()
        self.loss = nn.ModuleDict()
        self.aug = nn.ModuleDict()

    # -- wiring -------------------------------------------------------------------------------
    @classmethod
    def slots(cls, section: str) -> dict[str, Slot]:
        return dict(getattr(cls, section))

    @classmethod
    def recipe_problems(cls, recipe: dict[str, Any]) -> list[str]:
        """Cross-field rules over the resolved recipe, one ``key.path: message`` line per problem.

        The default rule: when the generator's adversarial loss (slot ``adversarial``) and the
        discriminator's (slot ``discriminator``) both have a ``mode``, it is the same one. G and D
        trained on different GAN objectives (``lsgan`` against ``bce``) do not optimise one game.
        Override to add rules (call ``super()``).
        """
        losses = recipe.get("losses") or {}
        g, d = losses.get("adversarial"), losses.get("discriminator")
        if isinstance(g, dict) and isinstance(d, dict) and "mode" in g and "mode" in d and g["mode"] != d["mode"]:
            return [f"losses.discriminator.mode: '{d['mode']}' differs from losses.adversarial.mode "
                    f"'{g['mode']}': G and D must train on one GAN objective; set both to the same mode"]
        return []

    @classmethod
    def phase(cls, name: str) -> Phase:
        return next(p for p in cls.phases if p.name == name)

    def bind(self, nets: dict[str, nn.Module], losses: dict[str, nn.Module],
             augment: dict[str, nn.Module]) -> "Method":
        """Attach built components (the trainer builds them from the recipe)."""
        self.net.update(nets)
        self.loss.update(losses)
        self.aug.update(augment)
        return self

    def init_weights(self) -> None:
        """Load the weights the method's parameters point at (Selfie-GAN's ``masker_weights``) into its
        bound networks. :func:`~toonkit.methods.assemble.assemble` calls it when building a method to
        train; a saved model (:func:`~toonkit.methods.spec.load_method`) brings its own weights instead."""

    def phase_active(self, phase: str) -> bool:
        """False to skip a phase (e.g. the masker phase when the masker was loaded from a file)."""
        return True

    def active_phases(self) -> list[Phase]:
        """The phases this instance trains, in order (:meth:`phase_active` ones)."""
        return [p for p in self.phases if self.phase_active(p.name)]

    @property
    def needs_masks(self) -> bool:
        """Whether a phase this instance trains reads person masks."""
        return any(p.masks for p in self.active_phases())

    # -- training -----------------------------------------------------------------------------
    def train_step(self, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        """Run one step of ``ctx.phase``; return named losses (detached or not) for logging."""
        raise NotImplementedError

    def sample(self, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        """Columns of the sample grid for a fixed batch: input | output (| mask)."""
        photo = batch["photo"]
        return [photo, self.translate(photo)]

    # -- inference ----------------------------------------------------------------------------
    @staticmethod
    def prepare_input(photo: torch.Tensor) -> torch.Tensor:
        """What the generator is fed for a photo (pix2pix feeds its outline)."""
        return photo

    def translate(self, photo: torch.Tensor) -> torch.Tensor:
        return self.net[self.roles.generator](self.prepare_input(photo))


def check_roles(cls: type[Method]) -> list[str]:
    """Problems of a method class's :attr:`~Method.roles` and phases: each names a slot it declares.

    Example:
        >>> class Bad(Method):  # doctest: +SKIP
        ...     roles = Roles(masker="segmenter")
        TypeError: method Bad: roles.masker 'segmenter' is not one of its nets slots (none)
    """
    problems = []
    nets, augment = cls.slots("nets"), cls.slots("augment")
    for role, slot, table, section in (("generator", cls.roles.generator, nets, "nets"),
                                       ("masker", cls.roles.masker, nets, "nets"),
                                       ("smoothing", cls.roles.smoothing, augment, "augment")):
        if slot is not None and table and slot not in table:
            problems.append(f"roles.{role} '{slot}' is not one of its {section} slots ({', '.join(table)})")
    for phase in cls.phases:
        unknown = [n for n in phase.trains if n not in nets]
        if unknown:
            problems.append(f"phase '{phase.name}' trains {', '.join(unknown)}, not among its nets slots")
    return problems
