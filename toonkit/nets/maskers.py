"""Person maskers (the paper's S): image in [-1, 1] → one logit per pixel (person vs background).

``sigmoid(logits)`` is the soft mask that Selfie-GAN multiplies into what D sees. Three choices:
the paper's plain U-Net (``unet``, no dependency, small by default because it runs on every adversarial
step), any segmentation_models_pytorch architecture and encoder (``smp``), and a small decoder on ImageNet
AlexNet features with guided-filter edges (``alexnet_unet``, :mod:`toonkit.nets.alexnet_masker`), the
shipped model's person masker.
"""
from __future__ import annotations

import json

import torch
from torch import nn

from toonkit.nets.layers import NORMS, NormName, check_choice, check_size, conv_bias, make_norm
from toonkit.plugins.view import PluginRegistry
from toonkit.registry import close_matches, did_you_mean
from toonkit.errors import describe_error
from toonkit.weights import WeightsUnavailableError, is_download_error

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _double_conv(cin: int, cout: int, norm: str) -> nn.Sequential:
    bias = conv_bias(norm)
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=bias), make_norm(norm, cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=bias), make_norm(norm, cout), nn.ReLU(inplace=True),
    )


class UNetMasker(nn.Module):
    """The paper's segmenter: a plain U-Net (Ronneberger et al., 2015) giving person logits.

    Each level is two 3×3 conv + norm + ReLU; 2×2 max-pool goes down, a 2×2 transposed conv comes up and
    the encoder features of the same level are concatenated. Same padding keeps H×W. Channels at level
    ``i`` are ``base_channels · 2^i``; the original used ``base_channels=64`` (31 M parameters), the
    default 32 (7.8 M) keeps the adversarial step cheap.

    Args:
        depth: number of 2× downsamplings; H and W must be divisible by ``2 ** depth``.
        base_channels: channels of the first level.
        norm: ``batch``, ``instance``, ``group`` or ``none``.
        in_channels: input image channels.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)` in [-1, 1], H and W divisible by ``2 ** depth``.
        - Output: :math:`(N, 1, H, W)` logits.

    Example:
        >>> s = UNetMasker(depth=2, base_channels=4)
        >>> s(torch.zeros(1, 3, 12, 8)).shape
        torch.Size([1, 1, 12, 8])
    """

    size_multiple: int = 2 ** 4  # class default for depth=4; instances set their own

    def __init__(self, depth: int = 4, base_channels: int = 32, norm: NormName = "batch",
                 in_channels: int = 3) -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.size_multiple = 2 ** depth
        widths = [base_channels * 2 ** i for i in range(depth + 1)]
        self.enc = nn.ModuleList([_double_conv(in_channels, widths[0], norm)])
        self.enc.extend(_double_conv(widths[i], widths[i + 1], norm) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in reversed(range(depth)))
        self.dec = nn.ModuleList(_double_conv(2 * widths[i], widths[i], norm) for i in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_size(x, self.size_multiple, type(self).__name__)
        skips = []
        for i, block in enumerate(self.enc):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, block in zip(self.ups, self.dec):
            x = block(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)


def _smp():  # imported lazily: smp pulls in timm and huggingface_hub, which the rest of toonkit never needs
    import segmentation_models_pytorch as smp

    return smp


def smp_architectures() -> list[str]:
    """Architecture names :class:`SmpMasker` accepts (segmentation_models_pytorch's, lower case)."""
    return sorted(_smp().MODEL_ARCHITECTURES_MAPPING)


def _check_encoder(encoder: str, weights: str | None) -> None:
    smp = _smp()
    if encoder.startswith("tu-"):
        import timm

        base = encoder[3:].split(".")[0]
        if not timm.is_model(base):
            hint = did_you_mean(encoder, ["tu-" + m for m in close_matches(base, timm.list_models())])
            raise ValueError(f"unknown timm encoder {encoder!r}{hint} "
                             "(use 'tu-' + any name from timm.list_models(), optionally with a '.tag')")
        return
    names = smp.encoders.get_encoder_names()
    if encoder not in names:
        raise ValueError(f"unknown smp encoder {encoder!r}{did_you_mean(encoder, names)} (smp encoders: "
                         f"{', '.join(sorted(names))}; or 'tu-' + any timm model name)")
    if weights is not None:
        available = list(smp.encoders.encoders[encoder]["pretrained_settings"])
        if weights not in available:
            raise ValueError(f"encoder {encoder!r} has no {weights!r} weights "
                             f"(available: {', '.join(available) or 'none'}; or encoder_weights: null)")


def _weights_source(encoder: str, weights: str) -> str:
    """Where smp/timm fetch the weights from, for the error message."""
    try:
        if encoder.startswith("tu-"):
            import timm

            cfg = timm.models.get_pretrained_cfg(encoder[3:])
            if cfg is None:
                return "timm"
            return f"Hugging Face repo {cfg.hf_hub_id}" if cfg.hf_hub_id else f"timm ({cfg.url})"
        return f"Hugging Face repo {_smp().encoders.encoders[encoder]['pretrained_settings'][weights]['repo_id']}"
    except Exception:  # noqa: BLE001 - only decorates an error message
        return "the model hub"


def _hub_cache() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # noqa: BLE001 - only decorates an error message
        return "the Hugging Face cache (HF_HOME)"


def _input_stats(encoder: str, weights: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean/std the pretrained encoder was trained with; read from local files only (no network)."""
    try:
        if encoder.startswith("tu-"):
            import timm

            cfg = timm.models.get_pretrained_cfg(encoder[3:])
            if cfg is not None:
                return tuple(cfg.mean), tuple(cfg.std)
            return IMAGENET_MEAN, IMAGENET_STD
        from huggingface_hub import hf_hub_download

        settings = _smp().encoders.encoders[encoder]["pretrained_settings"][weights]
        path = hf_hub_download(settings["repo_id"], "config.json", revision=settings["revision"],
                               local_files_only=True)
        with open(path) as f:
            cfg = json.load(f)
        return tuple(cfg["mean"]), tuple(cfg["std"])
    except Exception:  # noqa: BLE001 - nearly every pretrained encoder uses ImageNet statistics
        return IMAGENET_MEAN, IMAGENET_STD


class SmpMasker(nn.Module):
    """Any segmentation_models_pytorch architecture and encoder as a one-class person masker.

    With pretrained ``encoder_weights`` the [-1, 1] input is re-normalised internally to the statistics
    the encoder was trained with (ImageNet's for almost all); with random init it is used as is. Pretrained
    weights are downloaded by smp/timm on first use; offline, construction fails with
    :class:`~toonkit.weights.WeightsUnavailableError` saying where to put them.

    Args:
        arch: smp architecture (``unet``, ``unetplusplus``, ``fpn``, ``deeplabv3plus``, ...; see
            :func:`smp_architectures`).
        encoder: an smp encoder name (``resnet18``, ``efficientnet-b0``, ...) or ``tu-<timm model>``.
        encoder_weights: pretrained weights (``imagenet``, ...) or None for random init. For ``tu-``
            encoders any value means "timm's pretrained weights" (pick the variant with a ``.tag``).
        in_channels: input image channels.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)` in [-1, 1], H and W divisible by ``size_multiple``
          (the encoder's output stride, 32 for most).
        - Output: :math:`(N, 1, H, W)` logits.

    Example:
        >>> s = SmpMasker("fpn", "resnet18")
        >>> s(torch.zeros(1, 3, 64, 96)).shape
        torch.Size([1, 1, 64, 96])
    """

    size_multiple: int = 32

    def __init__(self, arch: str = "unet", encoder: str = "resnet18", encoder_weights: str | None = None,
                 in_channels: int = 3) -> None:
        super().__init__()
        smp = _smp()
        archs = smp_architectures()
        if arch.lower() not in archs:
            raise ValueError(f"unknown smp architecture {arch!r}{did_you_mean(arch.lower(), archs)} "
                             f"(options: {', '.join(archs)})")
        _check_encoder(encoder, encoder_weights)
        # smp wants True (not a name) for timm weights; the variant is in the encoder name's tag
        smp_weights = (True if encoder_weights is not None else None) if encoder.startswith("tu-") \
            else encoder_weights
        try:
            self.model = smp.create_model(arch.lower(), encoder_name=encoder, encoder_weights=smp_weights,
                                          in_channels=in_channels, classes=1)
        except Exception as exc:
            if encoder_weights is None or not is_download_error(exc):
                raise
            raise WeightsUnavailableError(
                f"cannot download {encoder_weights!r} weights for encoder {encoder!r} from "
                f"{_weights_source(encoder, encoder_weights)} ({describe_error(exc)}); run once with network "
                f"access to fill {_hub_cache()}, or set encoder_weights: null for random init"
            ) from None
        self.arch, self.encoder, self.encoder_weights = arch.lower(), encoder, encoder_weights
        self.size_multiple = int(getattr(self.model.encoder, "output_stride", 32))
        self.normalize = encoder_weights is not None
        mean, std = (_input_stats(encoder, encoder_weights) if encoder_weights is not None
                     else (IMAGENET_MEAN, IMAGENET_STD))
        # non-persistent: derived from the encoder choice, so checkpoints hold only learnt weights
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_size(x, self.size_multiple, type(self).__name__)
        if self.normalize and x.shape[1] == self.mean.shape[1]:
            x = ((x + 1) * 0.5 - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        return self.model(x)


def register(registry: PluginRegistry) -> None:
    from toonkit.nets.alexnet_masker import AlexNetMasker

    registry.add("masker", "unet", UNetMasker)
    registry.add("masker", "smp", SmpMasker)
    registry.add("masker", "alexnet_unet", AlexNetMasker)
