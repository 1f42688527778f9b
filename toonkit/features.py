"""Frozen perceptual feature extractors (VGG) for content, style and perceptual losses.

A feature extractor takes images in [-1, 1] (toonkit's convention), normalises them the way the network
was trained, and returns the activation of one named layer (a tensor) or of several (a dict).
Gradients flow to the input, never into the extractor's weights, and it stays in eval mode.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from toonkit.plugins.view import PluginRegistry
from toonkit.registry import did_you_mean
from toonkit.weights import imagenet_features_state_dict, load_state_file, strip_prefix

log = logging.getLogger("toonkit")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# torchvision's VGG configurations ("D" and "E"): channels per conv, "M" for a 2×2 max-pool
_VGG_CFG: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}

Features = torch.Tensor | dict[str, torch.Tensor]


def vgg_layer_names(arch: str = "vgg19") -> list[str]:
    """Names of the layers of ``torchvision.models.<arch>().features``, in order.

    ``convB_I`` is the I-th convolution of block B (before its ReLU), ``reluB_I`` its ReLU, ``poolB`` the
    max-pool ending block B. Position ``k`` in the list is index ``k`` of torchvision's ``features``.

    Example:
        >>> vgg_layer_names("vgg16")[:5]
        ['conv1_1', 'relu1_1', 'conv1_2', 'relu1_2', 'pool1']
    """
    if arch not in _VGG_CFG:
        raise ValueError(f"unknown VGG arch {arch!r}{did_you_mean(arch, list(_VGG_CFG))} "
                         f"(options: {', '.join(_VGG_CFG)})")
    names, block, conv = [], 1, 1
    for v in _VGG_CFG[arch]:
        if v == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return names


def _vgg_layers(arch: str, upto: int) -> nn.Sequential:
    """``torchvision.models.<arch>().features[: upto + 1]`` with the same indices (so state-dict keys match)."""
    layers: list[nn.Module] = []
    cin = 3
    for v in _VGG_CFG[arch]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            # not in place: an earlier conv output may itself be a requested feature
            layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU(inplace=False)]
            cin = int(v)
    return nn.Sequential(*layers[: upto + 1])


class VGGFeatures(nn.Module):
    """Frozen ImageNet VGG16/VGG19 cut after a named layer; input in [-1, 1].

    CartoonGAN's content loss uses VGG19 ``conv4_4`` (before its ReLU). Neural style transfer wants several
    layers at once: pass ``layers`` and the forward returns a dict ``{name: activation}`` in that order;
    without it the forward returns the ``layer`` activation as a tensor. The network is cut after the
    deepest requested layer, so nothing deeper is computed or stored.

    Args:
        arch: ``vgg19`` (CartoonGAN) or ``vgg16``.
        layer: the output layer when ``layers`` is None (``conv1_1`` … ``conv5_4``, ``relu*_*``, ``pool*``;
            see :func:`vgg_layer_names`).
        layers: several layers to return as a dict; when given, ``layer`` is not used.
        weights: ``imagenet`` — ``<arch>_imagenet_features.safetensors`` from ``TOONKIT_WEIGHTS_DIR`` or
            torchvision's ``IMAGENET1K_V1`` (downloaded once; offline without the file this raises
            :class:`~toonkit.weights.WeightsUnavailableError`); a path to a ``.safetensors`` or torch
            state dict (keys of ``<arch>().features`` or of the whole ``<arch>()``); or ``random``
            (random init, logged as a warning: losses built on it are no longer perceptual).

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1].
        - Output: :math:`(N, C, H / 2^p, W / 2^p)` with ``p`` the pools before the layer, or a dict of those.

    Example:
        >>> f = VGGFeatures("vgg16", "relu2_2", weights="random")  # doctest: +SKIP
        >>> f(torch.zeros(1, 3, 32, 32)).shape  # doctest: +SKIP
        torch.Size([1, 128, 16, 16])
    """

    @staticmethod
    def param_problems(params: dict) -> dict[str, str]:
        """Layers the chosen ``arch`` does not have (recipe validation calls this before building).

        Example:
            >>> VGGFeatures.param_problems({"arch": "vgg16", "layer": "conv4_4"})["layer"][:31]
            "vgg16 has no layer 'conv4_4'; d"
        """
        arch = params.get("arch", "vgg19")
        if arch not in _VGG_CFG:
            return {}
        names = vgg_layer_names(arch)
        key = "layers" if params.get("layers") is not None else "layer"
        wanted = params.get("layers") or [params.get("layer", "conv4_4")]
        bad = [n for n in wanted if n not in names]
        if not bad:
            return {}
        return {key: f"{arch} has no layer {bad[0]!r}{did_you_mean(str(bad[0]), names)} "
                     f"(its conv layers: {', '.join(n for n in names if n.startswith('conv'))})"}

    def __init__(
        self,
        arch: Literal["vgg16", "vgg19"] = "vgg19",
        layer: str = "conv4_4",
        layers: list[str] | None = None,
        weights: str = "imagenet",
    ) -> None:
        super().__init__()
        names = vgg_layer_names(arch)
        wanted = list(layers) if layers is not None else [layer]
        if not wanted:
            raise ValueError("layers must name at least one VGG layer")
        for name in wanted:
            if name not in names:
                raise ValueError(f"{arch} has no layer {name!r}{did_you_mean(name, names)} "
                                 f"(valid layers: {', '.join(names)})")
        self.arch, self.weights_source = arch, weights
        self.layer_names: list[str] = wanted
        self.return_dict = layers is not None
        self._indices = {name: names.index(name) for name in wanted}
        self.features = _vgg_layers(arch, max(self._indices.values()))
        self._load(weights)
        self.requires_grad_(False)
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        super().train(False)

    @property
    def out_channels(self) -> dict[str, int] | int:
        """Channels of each returned layer (a dict when ``layers`` was given)."""
        chans, out = 3, {}
        by_index = {i: n for n, i in self._indices.items()}
        for i, m in enumerate(self.features):
            if isinstance(m, nn.Conv2d):
                chans = m.out_channels
            if i in by_index:
                out[by_index[i]] = chans
        return out if self.return_dict else out[self.layer_names[0]]

    def _load(self, weights: str) -> None:
        if weights == "random":
            log.warning("VGG features with random weights: a loss built on them is not perceptual "
                        "(use weights='imagenet' or a weights file)")
            return
        if weights == "imagenet":
            state = imagenet_features_state_dict(self.arch)
        else:
            path = Path(weights).expanduser()
            if not path.is_file():
                raise ValueError(f"VGG weights must be 'imagenet', 'random' or an existing file, got {weights!r}")
            state = strip_prefix(load_state_file(path), "features.")
        own = self.features.state_dict()
        missing = [k for k in own if k not in state]
        if missing:
            raise ValueError(f"VGG weights ({weights}) lack {', '.join(missing[:4])}"
                             f"{' …' if len(missing) > 4 else ''}: expected keys of "
                             f"torchvision.models.{self.arch}().features")
        # the file may hold more layers than this cut keeps: load the prefix we have
        self.features.load_state_dict({k: state[k] for k in own})

    def train(self, mode: bool = True) -> VGGFeatures:
        """Stays in eval mode whatever ``mode`` is: the extractor is a fixed measuring device."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> Features:
        x = ((x + 1) * 0.5 - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        out: dict[str, torch.Tensor] = {}
        wanted = {i: n for n, i in self._indices.items()}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in wanted:
                out[wanted[i]] = x
        if self.return_dict:
            return {name: out[name] for name in self.layer_names}
        return out[self.layer_names[0]]


def register(registry: PluginRegistry) -> None:
    registry.add("feature", "vgg", VGGFeatures)
