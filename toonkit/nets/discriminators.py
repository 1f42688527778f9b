"""Patch discriminators: CartoonGAN's and pix2pix/CycleGAN's 70×70 PatchGAN.

Both return raw logits, one per patch (no sigmoid): the adversarial losses in :mod:`toonkit.losses`
apply the right link function for their mode.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from toonkit.nets.layers import NORMS, NormName, check_choice, conv_bias, init_gan_weights, make_norm
from toonkit.plugins.view import PluginRegistry
from toonkit.registry import renamed_params


class CartoonGANDiscriminator(nn.Module):
    """CartoonGAN discriminator: a shallow fully convolutional net giving patch logits at 1/4 resolution.

    Layout (Chen et al., CVPR 2018, Fig. 2; ``c = base_channels``): k3n(c)s1 → [k3n(2c)s2, k3n(4c)s1]
    → [k3n(4c)s2, k3n(8c)s1] → k3n(8c)s1 → k3n1s1, with LeakyReLU(0.2) after every conv but the last
    and ``norm`` after the second conv of each block and the one before the head.

    Args:
        base_channels: channels of the first conv (32 in the paper).
        norm: ``instance``, ``batch``, ``group`` or ``none``.
        in_channels: input channels.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)`.
        - Output: :math:`(N, 1, \\lceil H/4 \\rceil, \\lceil W/4 \\rceil)` logits.

    Example:
        >>> d = CartoonGANDiscriminator(base_channels=8)
        >>> d(torch.zeros(2, 3, 32, 24)).shape
        torch.Size([2, 1, 8, 6])
    """

    size_multiple: ClassVar[int] = 4

    def __init__(self, base_channels: int = 32, norm: NormName = "instance", in_channels: int = 3) -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        c, bias = base_channels, conv_bias(norm)

        def lrelu() -> nn.Module:
            return nn.LeakyReLU(0.2, inplace=True)

        self.model = nn.Sequential(
            nn.Conv2d(in_channels, c, 3, padding=1), lrelu(),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), lrelu(),
            nn.Conv2d(2 * c, 4 * c, 3, padding=1, bias=bias), make_norm(norm, 4 * c), lrelu(),
            nn.Conv2d(4 * c, 4 * c, 3, stride=2, padding=1), lrelu(),
            nn.Conv2d(4 * c, 8 * c, 3, padding=1, bias=bias), make_norm(norm, 8 * c), lrelu(),
            nn.Conv2d(8 * c, 8 * c, 3, padding=1, bias=bias), make_norm(norm, 8 * c), lrelu(),
            nn.Conv2d(8 * c, 1, 3, padding=1),
        )
        init_gan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@renamed_params(ndf="base_channels")  # old name (pix2pix's), accepted until the next release
class PatchGANDiscriminator(nn.Module):
    """pix2pix/CycleGAN PatchGAN (``NLayerDiscriminator``): each logit sees a 70×70 patch when ``n_layers=3``.

    4×4 convs: ``n_layers`` stride-2 convs (``base_channels · min(2^i, 8)`` channels, no norm on the first), one
    stride-1 conv with norm, a stride-1 conv to one channel; LeakyReLU(0.2) in between.

    Args:
        base_channels: channels of the first conv (pix2pix's ``ndf``, 64).
        n_layers: stride-2 convs; 3 gives the 70×70 receptive field.
        norm: ``batch`` (pix2pix), ``instance`` (CycleGAN), ``group`` or ``none``.
        in_channels: input channels; 6 for a conditional pix2pix D that sees condition and image.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)` with H, W ≥ ``2 ** n_layers · 2`` (roughly).
        - Output: :math:`(N, 1, H / 2^{n} - 2, W / 2^{n} - 2)` logits for H, W divisible by :math:`2^{n}`.

    Example:
        >>> d = PatchGANDiscriminator(base_channels=8, in_channels=6)
        >>> d(torch.zeros(1, 6, 64, 64)).shape
        torch.Size([1, 1, 6, 6])
    """

    def __init__(self, base_channels: int = 64, n_layers: int = 3, norm: NormName = "batch",
                 in_channels: int = 3) -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        c, bias = base_channels, conv_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, c, 4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(c * prev, c * mult, 4, stride=stride, padding=1, bias=bias),
                       make_norm(norm, c * mult), nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(c * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        self.size_multiple = 2 ** n_layers
        init_gan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def register(registry: PluginRegistry) -> None:
    registry.add("discriminator", "cartoongan", CartoonGANDiscriminator)
    registry.add("discriminator", "patchgan", PatchGANDiscriminator)
