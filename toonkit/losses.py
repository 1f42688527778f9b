"""Losses, as unweighted ``nn.Module`` s (recipes and methods own the weights).

Conventions:

- Every loss returns a scalar mean (float32, also under autocast: reductions in bf16 lose precision).
- Adversarial losses take raw discriminator logits. :class:`AdversarialLoss` is the single place that
  knows the targets of each mode; :class:`EdgePromotingLoss` composes it for CartoonGAN's D.
- :class:`ContentLoss` compares two feature tensors (or dicts of them); methods run the feature
  extractor themselves (``content(vgg(fake), target)``), so a target's features can be computed once.
- Every loss says what to call it with: ``example_inputs(size, batch)`` returns its positional arguments,
  the tensors that must receive a gradient marked ``requires_grad`` (the component protocol,
  :mod:`toonkit.protocols`; the plugin test kit and toonkit's own tests call it).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from toonkit import _compat
from toonkit.nets.layers import check_choice
from toonkit.registry import Registry

AdvMode = Literal["bce", "lsgan", "hinge"]


def _logits(*shape: int) -> torch.Tensor:
    """Random logits that take a gradient (example inputs)."""
    return torch.randn(*shape).requires_grad_(True)


def _images(*shape: int, grad: bool = True) -> torch.Tensor:
    """Random images in [-1, 1] (example inputs), taking a gradient unless ``grad`` is False."""
    return (torch.rand(*shape) * 2 - 1).requires_grad_(grad)
ADV_MODES: tuple[str, ...] = ("bce", "lsgan", "hinge")
FeatureMaps = torch.Tensor | Sequence[torch.Tensor] | Mapping[str, torch.Tensor]


class AdversarialLoss(nn.Module):
    """GAN loss on discriminator logits for the real/fake target, for D or for G.

    ``bce``: binary cross-entropy with logits against 1 (real) or 0 (fake), the original GAN and
    CartoonGAN. ``lsgan``: mean squared error against 1 / 0 (Mao et al.; CycleGAN). ``hinge``: for D,
    ``relu(1 - logits)`` on real and ``relu(1 + logits)`` on fake; for G, ``-mean(logits)``.
    The generator's loss is ``loss(D(G(x)), target_is_real=True, for_discriminator=False)``; for
    ``bce`` and ``lsgan`` it is the same target loss as D's (non-saturating GAN).

    Args:
        mode: ``bce``, ``lsgan`` or ``hinge``.

    Example:
        >>> adv = AdversarialLoss("lsgan")
        >>> float(adv(torch.ones(2, 1, 4, 4), target_is_real=True))
        0.0
        >>> d = adv.discriminator_loss(real=torch.ones(1, 1, 2, 2), fake=-torch.ones(1, 1, 2, 2))
    """

    def __init__(self, mode: AdvMode = "bce") -> None:
        super().__init__()
        check_choice("adversarial mode", mode, ADV_MODES)
        self.mode = mode

    def loss(self, logits: torch.Tensor, target_is_real: bool, for_discriminator: bool = True) -> torch.Tensor:
        """The mean loss of ``logits`` for the target (real/fake) as seen by D or G.

        Args:
            logits: discriminator output, any shape.
            target_is_real: whether these logits should say "real".
            for_discriminator: True for D's loss; False for G's (only changes ``hinge``).
        """
        logits = logits.float()
        if self.mode == "bce":
            target = torch.ones_like(logits) if target_is_real else torch.zeros_like(logits)
            return F.binary_cross_entropy_with_logits(logits, target)
        if self.mode == "lsgan":
            return F.mse_loss(logits, torch.full_like(logits, 1.0 if target_is_real else 0.0))
        if not for_discriminator:
            if not target_is_real:
                raise ValueError("the hinge generator loss only exists for target_is_real=True")
            return -logits.mean()
        return F.relu(1.0 - logits).mean() if target_is_real else F.relu(1.0 + logits).mean()

    def forward(self, logits: torch.Tensor, target_is_real: bool, for_discriminator: bool = True) -> torch.Tensor:
        return self.loss(logits, target_is_real, for_discriminator)

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor, bool]:
        """Patch logits and the target: D's loss on logits that should say "real"."""
        return _logits(batch, 1, max(1, size // 8), max(1, size // 8)), True

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """D's loss: ``loss(real → real) + loss(fake → fake)``."""
        return self.loss(real, True) + self.loss(fake, False)

    def generator_loss(self, fake: torch.Tensor) -> torch.Tensor:
        """G's loss on D's logits for generated images."""
        return self.loss(fake, True, for_discriminator=False)


class EdgePromotingLoss(nn.Module):
    """CartoonGAN's edge-promoting adversarial loss for D: cartoons are real; smoothed cartoons and G(p) fake.

    ``L_D = adv(D(c) → real) + adv(D(e) → fake) + adv(D(G(p)) → fake)``, with ``adv`` an
    :class:`AdversarialLoss` of ``mode`` (``bce`` is the paper's log-likelihood form). Calling D fake on
    edge-smoothed cartoons is what teaches it that blurry edges are not cartoon-like. G's side is an ordinary
    adversarial loss: :meth:`generator_loss`.

    Args:
        mode: ``bce`` (CartoonGAN), ``lsgan`` or ``hinge``.

    Example:
        >>> loss = EdgePromotingLoss()
        >>> z = torch.zeros(1, 1, 4, 4)
        >>> round(float(loss(z, z, z)), 4)  # 3 · log 2
        2.0794
    """

    def __init__(self, mode: AdvMode = "bce") -> None:
        super().__init__()
        self.adversarial = AdversarialLoss(mode)

    @property
    def mode(self) -> str:
        return self.adversarial.mode

    def forward(self, cartoon_logits: torch.Tensor, smoothed_logits: torch.Tensor,
                generated_logits: torch.Tensor) -> torch.Tensor:
        """D's loss from its logits on cartoons, edge-smoothed cartoons and generated images."""
        adv = self.adversarial
        return (adv.loss(cartoon_logits, True) + adv.loss(smoothed_logits, False)
                + adv.loss(generated_logits, False))

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D's logits on cartoons, smoothed cartoons and generated images."""
        side = max(1, size // 8)
        return _logits(batch, 1, side, side), _logits(batch, 1, side, side), _logits(batch, 1, side, side)

    def generator_loss(self, generated_logits: torch.Tensor) -> torch.Tensor:
        """G's adversarial loss: D should call its output real."""
        return self.adversarial.generator_loss(generated_logits)


def _mean(terms: list[torch.Tensor]) -> torch.Tensor:
    """The mean of per-layer loss terms, summed in order (the same float operations as ``sum()``)."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total / len(terms)


def _as_list(x: FeatureMaps) -> list[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, Mapping):
        return list(x.values())
    return list(x)


def _paired(a: FeatureMaps, b: FeatureMaps) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping) and list(a) != list(b):
        raise ValueError(f"feature dicts name different layers: {list(a)} vs {list(b)}")
    la, lb = _as_list(a), _as_list(b)
    if len(la) != len(lb) or not la:
        raise ValueError(f"need the same non-zero number of feature maps, got {len(la)} and {len(lb)}")
    return list(zip(la, lb))


class ContentLoss(nn.Module):
    """Mean L1 between features: CartoonGAN's ``|| VGG_l(G(p)) − VGG_l(p) ||_1`` (mean-reduced).

    ``content(input_feats, target_feats)``: both already features — tensors, lists or dicts of tensors
    (several layers are averaged). The target side is detached: gradients reach only ``input``.

    .. deprecated::
        ``content(fake, photo, features=vgg)`` (images through a feature extractor passed at call time)
        still works but warns: no method uses it, as each runs its feature extractor once per step and
        shares the result between losses. Pass ``features(fake)`` and ``features(photo)`` instead.

    Example:
        >>> content = ContentLoss()
        >>> float(content(torch.ones(1, 4, 2, 2), torch.zeros(1, 4, 2, 2)))
        1.0
    """

    def __init__(self) -> None:  # explicit, so the registry sees "no parameters" (not nn.Module's **kwargs)
        super().__init__()

    def forward(self, input: FeatureMaps, target: FeatureMaps,
                features: nn.Module | None = None) -> torch.Tensor:
        if features is not None:
            _compat.warn("ContentLoss(..., features=net)", "ContentLoss()(net(input), net(target))")
            if not isinstance(input, torch.Tensor) or not isinstance(target, torch.Tensor):
                raise TypeError("with features=..., pass images (tensors) as input and target")
            with torch.no_grad():
                target = features(target.detach())
            input = features(input)
        pairs = _paired(input, target)
        return _mean([F.l1_loss(a.float(), b.float().detach()) for a, b in pairs])

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """Feature maps of the output (with a gradient) and of the target."""
        side = max(1, size // 4)
        return _logits(batch, 8, side, side), torch.randn(batch, 8, side, side)


def gram_matrix(x: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Gram matrix of feature maps normalised by ``C·H·W``, in float32.

    Args:
        x: feature maps.
        weight: optional per-pixel weights (e.g. a soft person mask) at any resolution; resized to the
            feature maps by area averaging. The Gram is then ``Σ w·f·fᵀ / (C·Σ w)``: the texture statistics
            of the weighted region only, on the same scale as the unweighted Gram (all-ones weights give
            exactly it).

    Shape:
        - Input: :math:`(N, C, H, W)`, weight :math:`(N, 1, H', W')`
        - Output: :math:`(N, C, C)`
    """
    n, c, h, w = x.shape
    f = x.float().reshape(n, c, h * w)
    with torch.autocast(device_type=x.device.type, enabled=False):  # bf16 sums of H·W products are too coarse
        if weight is None:
            return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)
        wt = F.interpolate(weight.float(), size=(h, w), mode="area").reshape(n, 1, h * w)
        area = wt.sum(dim=2, keepdim=True).clamp_min(1.0)  # an empty mask: a zero Gram, not a division by 0
        return torch.bmm(f * wt, f.transpose(1, 2)) / (c * area)


class GramStyleLoss(nn.Module):
    """Style loss of Gatys et al.: MSE between Gram matrices, averaged over layers.

    ``input`` and ``target`` are feature maps — a tensor, a list or a dict (e.g. from
    ``VGGFeatures(layers=[...])``). Either may also be precomputed Gram matrices (3-D tensors from
    :func:`gram_matrix`, e.g. of a masked region), and a target batch of 1 is broadcast over the input
    batch, so a style image's Grams can be computed once.

    Example:
        >>> style = GramStyleLoss()
        >>> x = torch.rand(2, 8, 4, 4)
        >>> float(style([x], [x]))
        0.0
    """

    def __init__(self) -> None:  # explicit, so the registry sees "no parameters" (not nn.Module's **kwargs)
        super().__init__()

    def forward(self, input: FeatureMaps, target: FeatureMaps) -> torch.Tensor:
        pairs = _paired(input, target)
        terms = []
        for a, b in pairs:
            ga = a.float() if a.dim() == 3 else gram_matrix(a)
            gb = (b.float() if b.dim() == 3 else gram_matrix(b)).detach()
            if gb.shape[0] == 1 and ga.shape[0] > 1:
                gb = gb.expand_as(ga)
            terms.append(F.mse_loss(ga, gb))
        return _mean(terms)

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Two layers' feature maps of the images (with gradients) and of one style image."""
        side = max(2, size // 4)
        return ([_logits(batch, 8, side, side), _logits(batch, 16, side // 2, side // 2)],
                [torch.randn(1, 8, side, side), torch.randn(1, 16, side // 2, side // 2)])


class ColorConsistencyLoss(nn.Module):
    """Keeps the photo's colours under the paint: L1 between local mean CIELAB colours of two images.

    Both images (sRGB in [-1, 1]) go to CIELAB (D65, kornia) in float32 and are average-pooled over
    ``scale``×``scale`` blocks, so strokes, outlines and flattened shading inside a block cost little
    while a shift of the block's mean colour (whitened skin, a red cast) costs in full. L* is divided by
    100 and a*, b* by 100 as well; ``chroma_weight`` weighs a*, b* against L*. It plays the role of
    AnimeGAN's YUV colour loss, at a coarser scale: the generator may repaint texture, not the colour.

    Args:
        scale: side of the pooling blocks in pixels (1: per pixel).
        chroma_weight: weight of the a*, b* terms relative to L*.

    Example:
        >>> loss = ColorConsistencyLoss(scale=4)
        >>> x = torch.rand(1, 3, 16, 16) * 2 - 1
        >>> float(loss(x, x))
        0.0
        >>> float(loss((x + 0.3).clamp(-1, 1), x)) > 0.05
        True
    """

    def __init__(self, scale: int = 8, chroma_weight: float = 1.0) -> None:
        super().__init__()
        if scale < 1 or chroma_weight < 0:
            raise ValueError("ColorConsistencyLoss: need scale >= 1 and chroma_weight >= 0")
        self.scale, self.chroma_weight = scale, chroma_weight

    def _lab_blocks(self, x: torch.Tensor) -> torch.Tensor:
        from kornia.color import rgb_to_lab

        with torch.autocast(device_type=x.device.type, enabled=False):  # Lab's cube roots need fp32
            lab = rgb_to_lab(((x.float() + 1) / 2).clamp(0, 1)) / 100.0
            return F.avg_pool2d(lab, self.scale, ceil_mode=True) if self.scale > 1 else lab

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        a, b = self._lab_blocks(input), self._lab_blocks(target).detach()
        diff = (a - b).abs().mean(dim=(0, 2, 3))
        return (diff[0] + self.chroma_weight * (diff[1] + diff[2])) / (1 + 2 * self.chroma_weight)

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """Cartoons (to be trained) and the photos they were made from, in [-1, 1]."""
        return (torch.rand(batch, 3, size, size) * 2 - 1).requires_grad_(), torch.rand(batch, 3, size, size) * 2 - 1


class FlatSurfaceLoss(nn.Module):
    """Pulls an image towards its own flattened version: flat colour regions with clean edges.

    The target is the image itself after OpenCV's mean-shift filtering (``cv2.pyrMeanShiftFiltering``,
    spatial radius ``spatial`` px, colour radius ``color`` levels), computed without gradient: pixels move
    to the mean colour of their region and edges between regions stay, the flat shading of a painting.
    The loss is the mean L1 between the image and that target, so an image that is already flat costs
    nothing. It plays the role of White-box Cartoonization's structure representation (superpixels of
    the output itself) with an edge-preserving filter OpenCV ships. The filter runs on the CPU, one image
    at a time, as 8-bit RGB (about 10 ms per 128² image).

    Args:
        spatial: spatial window radius in pixels.
        color: colour window radius in 8-bit levels.

    Example:
        >>> flat = FlatSurfaceLoss()
        >>> float(flat(torch.zeros(1, 3, 16, 16)))
        0.0
    """

    def __init__(self, spatial: float = 8.0, color: float = 24.0) -> None:
        super().__init__()
        if spatial <= 0 or color <= 0:
            raise ValueError("FlatSurfaceLoss: spatial and color must be > 0")
        self.spatial, self.color = spatial, color

    @torch.no_grad()
    def target(self, images: torch.Tensor) -> torch.Tensor:
        """The flattened images (same shape and device, [-1, 1])."""
        import cv2

        from toonkit.imaging import from_uint8, to_uint8

        out = []
        for image in to_uint8(images.detach().float()).cpu():
            rgb = image.permute(1, 2, 0).contiguous().numpy()
            flat = cv2.pyrMeanShiftFiltering(rgb, self.spatial, self.color)
            out.append(torch.from_numpy(flat).permute(2, 0, 1))
        return from_uint8(torch.stack(out)).to(images.device)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(images.float(), self.target(images))

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor]:
        """Generated images in [-1, 1] (to be trained)."""
        return ((torch.rand(batch, 3, size, size) * 2 - 1).requires_grad_(),)


class SegmentationLoss(nn.Module):
    """Binary cross-entropy of masker logits against a (possibly soft) person mask in [0, 1].

    The paper's ``L_seg`` (printed without its minus sign; it is the ordinary BCE).

    Example:
        >>> seg = SegmentationLoss()
        >>> float(seg(torch.full((1, 1, 2, 2), 20.0), torch.ones(1, 1, 2, 2))) < 1e-6
        True
    """

    def __init__(self) -> None:  # explicit, so the registry sees "no parameters" (not nn.Module's **kwargs)
        super().__init__()

    def forward(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if logits.shape != mask.shape:
            raise ValueError(f"logits {tuple(logits.shape)} and mask {tuple(mask.shape)} differ in shape")
        return F.binary_cross_entropy_with_logits(logits.float(), mask.float())

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """Masker logits and a 0/1 person mask."""
        return _logits(batch, 1, size, size), torch.rand(batch, 1, size, size).round()


class _L1(nn.Module):
    def __init__(self) -> None:  # explicit, so the registry sees "no parameters" (not nn.Module's **kwargs)
        super().__init__()

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(input.float(), target.float())

    @staticmethod
    def example_inputs(size: int = 8, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """A generated image (with a gradient) and its target."""
        return _images(batch, 3, size, size), _images(batch, 3, size, size, grad=False)


class CycleLoss(_L1):
    """Cycle-consistency loss (CycleGAN): mean L1 between an image and its round trip ``F(G(x))``."""


class IdentityLoss(_L1):
    """Identity loss (CycleGAN): mean L1 between ``G(y)`` and a target-domain image ``y``."""


class PixelLoss(_L1):
    """Mean L1 between a generated image and its paired target (pix2pix's reconstruction term)."""


def register(registry: Registry) -> None:
    registry.add("loss", "adversarial", AdversarialLoss)
    registry.add("loss", "edge_promoting", EdgePromotingLoss)
    registry.add("loss", "content", ContentLoss)
    registry.add("loss", "gram_style", GramStyleLoss)
    registry.add("loss", "color_consistency", ColorConsistencyLoss)
    registry.add("loss", "flat_surface", FlatSurfaceLoss)
    registry.add("loss", "segmentation", SegmentationLoss)
    registry.add("loss", "cycle", CycleLoss)
    registry.add("loss", "identity", IdentityLoss)
    registry.add("loss", "pixel", PixelLoss)
