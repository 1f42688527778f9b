"""What every metric shares: the evaluation context, the metric base class and mask/image helpers."""
from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

Translate = Callable[[Tensor], Tensor]


@dataclass
class EvalContext:
    """Everything a metric may look at, for one method on one test set.

    Args:
        inputs: the test photos.
        outputs: the method's translations of ``inputs``; when ``None`` they are made on first use with
            ``translate`` (see :meth:`get_outputs`).
        masks: person masks of ``inputs`` (soft or binary).
        references: target-style cartoons (any size; their own set, unpaired with ``inputs``).
        translate: the method as a function, photos in, cartoons out, same shape conventions; needed by
            metrics that feed the method new images (background leakage). It is called without gradients
            and in chunks of the metric's ``batch_size``.
        device: where metrics run their own networks and arithmetic.

    Metrics whose columns are means over the photos also leave the per-photo values in
    :attr:`per_image` (``{column: (N,) tensor}``, NaN where undefined, see :meth:`record`), so a report
    can put a bootstrap interval on a difference between two methods. Set-level metrics (FD, KID) leave
    the per-photo embeddings they compared in :attr:`embeddings` (``{name: (N, D) tensor}``; the
    references' under ``name + "/references"``), so a report can resample the photos for them too.

    Shape:
        - inputs: :math:`(N, 3, H, W)` in [-1, 1].
        - outputs: :math:`(N, 3, H', W')` in [-1, 1] (usually :math:`H' = H`, :math:`W' = W`).
        - masks: :math:`(N, 1, H, W)` in [0, 1].
        - references: :math:`(M, 3, h, w)` in [-1, 1].

    Example:
        >>> x = torch.rand(2, 3, 32, 32) * 2 - 1
        >>> ctx = EvalContext(inputs=x, translate=lambda t: t)
        >>> torch.equal(ctx.get_outputs(), x)
        True
    """

    inputs: Tensor
    outputs: Tensor | None = None
    masks: Tensor | None = None
    references: Tensor | None = None
    translate: Translate | None = None
    device: torch.device | str = "cpu"
    per_image: dict[str, Tensor] = field(default_factory=dict, init=False, repr=False)
    embeddings: dict[str, Tensor] = field(default_factory=dict, init=False, repr=False)
    _translated: Tensor | None = field(default=None, init=False, repr=False)

    def record(self, column: str, values: Tensor) -> Tensor:
        """Keep the per-photo values of ``column`` in :attr:`per_image` (fp64, CPU) and return them."""
        self.per_image[column] = values.detach().double().cpu()
        return values

    def get_outputs(self, batch_size: int = 8) -> Tensor:
        """``outputs``, or ``translate(inputs)`` computed once and kept."""
        if self.outputs is not None:
            return self.outputs
        if self._translated is None:
            if self.translate is None:
                raise ValueError("EvalContext has neither outputs nor a translate function")
            self._translated = translate_in_chunks(self.translate, self.inputs, batch_size)
        return self._translated

    def require(self, metric: str, *names: str) -> None:
        """Raise one clear line when a field ``metric`` needs is missing."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise ValueError(f"metric '{metric}' needs EvalContext.{', EvalContext.'.join(missing)}")


class Metric(abc.ABC):
    """Base class of toonkit metrics: ``metric(ctx)`` returns ``{column: value}``.

    Subclasses set ``name`` (the registry name), ``higher_is_better`` (the direction of every score
    column it returns: ``True``, ``False``, or ``None`` for signed shifts whose best value is 0, which
    the bench ranks by distance from 0) and ``requires`` (the :class:`EvalContext` fields it reads),
    and implement :meth:`compute`. Columns whose names end in ``_std`` are spreads, not scores.
    """

    name: str = ""
    higher_is_better: bool | None = False
    requires: tuple[str, ...] = ()

    def __call__(self, ctx: EvalContext) -> dict[str, float]:
        ctx.require(self.name, *self.requires)
        # Scores are computed in fp32 whatever autocast the caller runs its method under.
        device_type = torch.device(ctx.device).type
        with torch.no_grad(), torch.autocast(device_type, enabled=False):
            return self.compute(ctx)

    @abc.abstractmethod
    def compute(self, ctx: EvalContext) -> dict[str, float]:
        """The metric's columns for ``ctx`` (called without gradients)."""

    def columns(self) -> tuple[str, ...]:
        """Names of the columns :meth:`compute` returns (for table headers before any run)."""
        return (self.name,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, higher_is_better={self.higher_is_better})"


# ---- helpers shared by the metrics ---------------------------------------------------------------


def translate_in_chunks(translate: Translate, images: Tensor, batch_size: int) -> Tensor:
    """``translate`` applied to ``images`` in chunks of ``batch_size`` without gradients, as fp32."""
    with torch.no_grad():
        parts = [translate(chunk).float() for chunk in images.split(max(1, batch_size))]
    return torch.cat(parts)


def binary_mask(masks: Tensor, threshold: float = 0.5) -> Tensor:
    """``masks > threshold`` as a float {0, 1} tensor."""
    return (masks.float() > threshold).float()


def eroded_mask(masks: Tensor, kernel_size: int, threshold: float = 0.5) -> Tensor:
    """Binarise ``masks`` at ``threshold`` and erode with a ``kernel_size`` square.

    Erosion keeps measurements away from the person's outline, where the mask itself is uncertain and
    where any composite's edge would otherwise count. Pixels outside the image do not erode the mask
    (kornia's geodesic border), so a person cut by the frame keeps their edge pixels.

    Shape:
        - masks: :math:`(N, 1, H, W)`; returns the same shape, values in {0, 1}.
    """
    mask = binary_mask(masks, threshold)
    if kernel_size <= 1:
        return mask
    from kornia.morphology import erosion

    kernel = torch.ones(kernel_size, kernel_size, device=mask.device, dtype=mask.dtype)
    return erosion(mask, kernel)


def resize_like(images: Tensor, size: tuple[int, ...], mode: str = "bilinear") -> Tensor:
    """Resize ``images`` to ``size`` (H, W) when they differ; masks use ``mode='nearest'``."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    if mode == "nearest":
        return F.interpolate(images, size=size, mode="nearest")
    return F.interpolate(images, size=size, mode=mode, align_corners=False, antialias=True)


def masked_mean_per_image(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` over ``mask`` for each image; images with an empty mask give NaN.

    Shape:
        - values: :math:`(N, 1, H, W)`, mask: :math:`(N, 1, H, W)`; returns :math:`(N,)`.
    """
    inside = mask > 0
    total = torch.where(inside, values * mask, torch.zeros_like(values)).flatten(1).sum(1)
    count = mask.flatten(1).sum(1)
    return torch.where(count > 0, total / count.clamp_min(1), torch.full_like(total, float("nan")))


def mean_over_images(per_image: Tensor, metric: str) -> float:
    """Mean over images with a defined value; every image counts once whatever its foreground size."""
    valid = per_image[~torch.isnan(per_image)]
    if valid.numel() == 0:
        raise ValueError(f"metric '{metric}': no image has foreground left after erosion; "
                         "use larger masks or a smaller erosion kernel")
    return float(valid.double().mean())
