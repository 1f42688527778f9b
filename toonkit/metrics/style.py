"""Style distance: Fréchet distance and KID between a method's outputs and the reference cartoons.

The statistics are torchmetrics' own (``FrechetInceptionDistance`` and ``KernelInceptionDistance``, fed
pre-computed features through a pass-through ``feature`` module so each image set is embedded once and
the reference set's features can be reused across methods). The embedding is Inception-v3 (then the
columns are the usual ``FID``/``KID``) when torch-fidelity is installed and its weights are on disk or
can be downloaded (with a short timeout); otherwise it is the global-average-pooled ``relu5_3`` of
ImageNet VGG16 and the columns say so (``FD-VGG16``, ``KID-VGG16``), never "FID".
Numbers from the two embeddings are not comparable, and neither is comparable across set sizes.
"""
from __future__ import annotations

import math

import os
import warnings
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from toonkit.imaging import to_uint8, to_unit
from toonkit.metrics._weights import (
    WeightsUnavailableError,
    imagenet_features_state,
    short_socket_timeout,
    weights_dir,
)
from toonkit.metrics.base import EvalContext, Metric
from toonkit.errors import describe_error
from toonkit.weights import is_download_error

# torch-fidelity's converted TF Inception (what torchmetrics' FID uses), and pytorch-fid's equivalent.
INCEPTION_FILES = ("weights-inception-2015-12-05-6726825d.pth", "pt_inception-2015-12-05-6726825d.pth")
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16PooledFeatures(nn.Module):
    """ImageNet VGG16 up to ``relu5_3``, global-average-pooled: one 512-d vector per image.

    ``relu5_3`` is the deepest convolutional activation (the classifier weights are not needed, and
    pooling makes the vector independent of input size); images are resized to ``image_size`` first so
    outputs and references of different sizes are embedded alike.

    Args:
        image_size: side the images are resized to (bilinear, antialiased) before the network.
        pretrained: load the ImageNet weights (see :func:`toonkit.metrics._weights.imagenet_features_state`);
            ``False`` leaves torchvision's random initialisation (for tests of the statistic).

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1].
        - Output: :math:`(N, 512)`.
    """

    num_features = 512

    def __init__(self, image_size: int = 224, pretrained: bool = True) -> None:
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        # make_layers keeps torchvision's indices, so the weights' keys ("0.weight", ...) load as-is;
        # [:30] stops after relu5_3 (index 29) and before the last max-pool.
        self.body = make_layers(cfgs["D"])[:30]
        if pretrained:
            self.body.load_state_dict(imagenet_features_state("vgg16", "style_distance (FD-VGG16/KID-VGG16)"))
        self.image_size = image_size
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.eval().requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        x = x.float()
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear",
                              align_corners=False, antialias=True)
        x = (to_unit(x) - self.mean) / self.std
        return self.body(x).mean(dim=(2, 3))


class InceptionPoolFeatures(nn.Module):
    """torchmetrics' FID Inception-v3 (2048-d pool features).

    Args:
        weights_path: torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``; ``None`` lets
            torch-fidelity download it into torch hub's cache.

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1] (quantised to uint8 as FID expects).
        - Output: :math:`(N, 2048)`.
    """

    num_features = 2048

    def __init__(self, weights_path: str | None = None) -> None:
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"],
                                      feature_extractor_weights_path=weights_path)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(to_uint8(x))


def inception_weights_path() -> Path | None:
    """The FID Inception weights file if it is already on disk, else None.

    Looks in ``$TOONKIT_WEIGHTS_DIR`` and in torch hub's cache, where torch-fidelity puts its download.
    """
    for folder in (weights_dir(), Path(torch.hub.get_dir()) / "checkpoints"):
        for name in INCEPTION_FILES:
            if folder is not None and (folder / name).is_file():
                return folder / name
    return None


def load_inception() -> tuple[InceptionPoolFeatures | None, str]:
    """torchmetrics' Inception if it can be had quickly, else ``(None, reason)``.

    Without torch-fidelity (torchmetrics' ``image`` extra) it is unavailable at once. With a local
    weights file it is loaded from there. Otherwise torch-fidelity's download is tried with a short
    socket timeout, so an offline machine falls back in seconds instead of hanging.
    """
    try:
        import torch_fidelity  # noqa: F401  (torchmetrics' Inception is built on it)
    except ImportError:
        return None, "torch-fidelity is not installed (pip install torchmetrics[image])"
    path = inception_weights_path()
    if path is not None:
        return InceptionPoolFeatures(os.fspath(path)), ""
    try:
        with short_socket_timeout():
            return InceptionPoolFeatures(None), ""
    except Exception as exc:
        if not is_download_error(exc):
            raise
        reason = (f"Inception weights could not be downloaded ({describe_error(exc, 80)}); "
                  f"put {INCEPTION_FILES[0]} in TOONKIT_WEIGHTS_DIR")
        return None, reason


class _Precomputed(nn.Module):
    """Pass-through 'feature network' so torchmetrics' statistics run on features we computed."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        return x


def frechet_and_kid(real: Tensor, fake: Tensor, kid_subsets: int = 100, kid_subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float, float]:
    """Fréchet distance and KID (mean, std over subsets) between two feature sets, via torchmetrics.

    The KID subset size is ``min(kid_subset_size, len(real), len(fake))`` so small test sets work; when
    that is both whole sets, every subset is the same and the std is NaN (no spread can be measured, which
    is not a spread of 0). The subsets are drawn from a generator seeded with ``seed`` so a score is
    reproducible.

    Args:
        real: reference features.
        fake: output features.

    Shape:
        - real: :math:`(M, D)`, fake: :math:`(N, D)` with :math:`M, N \\ge 2`.

    Example:
        >>> f = torch.randn(16, 8)
        >>> fd, kid, kid_std = frechet_and_kid(f, f)
        >>> abs(fd) < 1e-6
        True
    """
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    if real.shape[0] < 2 or fake.shape[0] < 2:
        raise ValueError(f"FD/KID need at least 2 images per set, got {real.shape[0]} references "
                         f"and {fake.shape[0]} outputs")
    real, fake = real.detach().double().cpu(), fake.detach().double().cpu()
    dim = real.shape[1]
    fid = FrechetInceptionDistance(feature=_Precomputed(dim))
    fid.update(real, real=True)
    fid.update(fake, real=False)
    fd = float(fid.compute())
    size = min(kid_subset_size, real.shape[0], fake.shape[0])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        kid = KernelInceptionDistance(feature=_Precomputed(dim), subsets=kid_subsets, subset_size=size)
    kid.update(real, real=True)
    kid.update(fake, real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        kid_mean, kid_std = kid.compute()
    if size >= max(real.shape[0], fake.shape[0]):  # every subset is both whole sets: no spread to see
        return fd, float(kid_mean), math.nan
    return fd, float(kid_mean), float(kid_std)


def kid_unbiased(real: Tensor, fake: Tensor) -> float:
    """KID on whole sets: the unbiased MMD² of KID's cubic polynomial kernel ``(x·y / D + 1)³``.

    The same statistic as :func:`frechet_and_kid`'s KID without the subsets (equal in expectation), cheap
    enough to recompute on bootstrap resamples of the photos.

    Shape:
        - real: :math:`(M, D)`, fake: :math:`(N, D)` with :math:`M, N \\ge 2`.

    Example:
        >>> f = torch.randn(32, 8)
        >>> abs(kid_unbiased(f, f)) < 0.05
        True
    """
    x, y = real.double(), fake.double()
    dim = x.shape[1]
    kxx, kyy, kxy = ((x @ x.T) / dim + 1) ** 3, ((y @ y.T) / dim + 1) ** 3, ((x @ y.T) / dim + 1) ** 3
    m, n = x.shape[0], y.shape[0]
    return float((kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
                 + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1)) - 2 * kxy.mean())


class StyleDistance(Metric):
    """Fréchet distance and KID between the outputs and the reference cartoons (lower is better).

    Both sets are embedded by a fixed network and compared as distributions: the Fréchet distance
    between Gaussians fitted to the two embeddings, and the Kernel Inception Distance (unbiased MMD² with
    the cubic polynomial kernel, mean and std over random subsets). It measures how far the outputs'
    overall style statistics are from the target cartoons', not whether any single output is good. The
    embedding is torchmetrics' Inception-v3 when it can be loaded (columns ``FID``, ``KID``, ``KID_std``;
    see :func:`load_inception`), otherwise ImageNet VGG16 ``relu5_3`` average-pooled, at ``image_size``²
    (columns ``FD-VGG16``, ``KID-VGG16``, ``KID-VGG16_std``). Values depend on the set sizes (FD is biased
    upwards for small sets), so compare methods only on the same test and reference sets.

    Args:
        backend: ``'auto'`` (Inception if available, else VGG16), ``'inception'`` or ``'vgg16'``.
        image_size: VGG16 input side (Inception always resizes to 299).
        kid_subsets: number of KID subsets.
        kid_subset_size: KID subset size, capped at the smaller set's size.
        batch_size: images per feature-network forward.
        seed: seed of the KID subset draws.

    Example:
        >>> metric = StyleDistance(backend="vgg16")
        >>> metric.columns()
        ('FD-VGG16', 'KID-VGG16', 'KID-VGG16_std')
    """

    name = "style_distance"
    higher_is_better = False
    requires = ("references",)

    def __init__(self, backend: Literal["auto", "inception", "vgg16"] = "auto", image_size: int = 224,
                 kid_subsets: int = 100, kid_subset_size: int = 1000, batch_size: int = 16,
                 seed: int = 0) -> None:
        self.backend = backend
        self.image_size = image_size
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.batch_size = batch_size
        self.seed = seed
        self._extractor: nn.Module | None = None
        self._label: str | None = "-VGG16" if backend == "vgg16" else None  # None: not resolved yet
        self._ref_cache: tuple[Tensor, str, Tensor] | None = None
        self.inception_unavailable = ""  # why 'auto' did not use Inception, once resolved (for logs)

    def _resolve(self) -> str:
        """Pick the embedding (loading Inception when it is the choice) and return the column suffix."""
        if self._label is None:
            net, reason = load_inception()
            self.inception_unavailable = reason
            if net is not None:
                self._extractor, self._label = net.eval(), ""
            elif self.backend == "inception":
                raise WeightsUnavailableError(f"style_distance backend 'inception': {reason}")
            else:
                self._label = "-VGG16"
        return self._label

    def set_extractor(self, module: nn.Module, label: str) -> StyleDistance:
        """Use ``module`` ((N,3,H,W) in [-1,1] -> (N,D)) as the embedding; columns become FD-``label``."""
        self._extractor = module.eval().requires_grad_(False)
        self._label = f"-{label}"
        self._ref_cache = None
        return self

    def columns(self) -> tuple[str, ...]:
        """Column names; with ``backend='auto'`` this decides (and may load) the embedding."""
        label = self._resolve()
        fd = "FID" if label == "" else f"FD{label}"
        return fd, f"KID{label}", f"KID{label}_std"

    def extractor(self) -> nn.Module:
        """The embedding network, loaded on first use."""
        self._resolve()
        if self._extractor is None:
            self._extractor = VGG16PooledFeatures(self.image_size)
        return self._extractor

    def embed(self, images: Tensor, device: torch.device | str) -> Tensor:
        """Features of ``images`` (fp32, on CPU), computed in batches on ``device``."""
        net = self.extractor().to(device)
        parts = [net(chunk.to(device).float()).float().cpu() for chunk in images.split(self.batch_size)]
        return torch.cat(parts)

    def compute(self, ctx: EvalContext) -> dict[str, float]:
        refs = ctx.references
        key = str(ctx.device) + self._resolve()
        # The same reference tensor is scored against every method: embed it once.
        if self._ref_cache is not None and self._ref_cache[0] is refs and self._ref_cache[1] == key:
            ref_feats = self._ref_cache[2]
        else:
            if refs is None:
                raise ValueError("style_distance needs reference images (ctx.references)")
            ref_feats = self.embed(refs, ctx.device)
            self._ref_cache = (refs, key, ref_feats)
        out_feats = self.embed(ctx.get_outputs(self.batch_size), ctx.device)
        ctx.embeddings[self.name] = out_feats
        ctx.embeddings[self.name + "/references"] = ref_feats
        fd, kid, kid_std = frechet_and_kid(ref_feats, out_feats, self.kid_subsets, self.kid_subset_size,
                                           self.seed)
        return dict(zip(self.columns(), (fd, kid, kid_std)))
