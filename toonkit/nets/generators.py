"""Image-to-image generators: CartoonGAN's, CycleGAN's ResNet and pix2pix's U-Net.

All map an image in [-1, 1] to an image in [-1, 1] (tanh) of the same height and width, for any H and W
divisible by the class attribute ``size_multiple`` (an instance attribute for :class:`UNetGenerator`,
where it depends on ``depth``). Pad or resize other sizes first.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from toonkit.nets.layers import (
    NORMS,
    NormName,
    ReflectConv2d,
    ResidualBlock,
    UpsampleMode,
    check_choice,
    check_size,
    conv_bias,
    init_gan_weights,
    make_norm,
    upsample2x,
)
from toonkit.plugins.view import PluginRegistry
from toonkit.registry import renamed_params


class CartoonGANGenerator(nn.Module):
    """CartoonGAN generator: flat conv, two down blocks, residual blocks, two up blocks, tanh.

    Layout (Chen et al., CVPR 2018, Fig. 2; ``c = base_channels``): k7n(c)s1 → [k3n(2c)s2, k3n(2c)s1]
    → [k3n(4c)s2, k3n(4c)s1] (norm + ReLU after each pair) → ``res_blocks`` residual blocks of two
    k3n(4c)s1 → [up k3n(2c) ×2, k3n(2c)s1] → [up k3n(c) ×2, k3n(c)s1] (norm + ReLU) → k7n(out)s1 → tanh.

    Args:
        base_channels: channels of the first layer (64 in the paper); the body uses 4×.
        res_blocks: number of residual blocks (8 in the paper; the authors' code used 16).
        norm: normalisation after each block: ``instance``, ``batch``, ``group`` or ``none``.
        upsample: ``transpose`` (the paper's fractionally strided conv) or ``nearest``/``bilinear``
            resize followed by a 3×3 conv (no checkerboard artefacts).
        in_channels: input image channels.
        out_channels: output image channels.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)`, H and W divisible by 4, values in [-1, 1].
        - Output: :math:`(N, C_{out}, H, W)`, values in [-1, 1].

    Example:
        >>> g = CartoonGANGenerator(base_channels=8, res_blocks=1)
        >>> g(torch.zeros(1, 3, 12, 20)).shape
        torch.Size([1, 3, 12, 20])
    """

    size_multiple: ClassVar[int] = 4

    def __init__(
        self,
        base_channels: int = 64,
        res_blocks: int = 8,
        norm: NormName = "instance",
        upsample: UpsampleMode = "transpose",
        in_channels: int = 3,
        out_channels: int = 3,
    ) -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        if res_blocks < 0 or base_channels < 1:
            raise ValueError(f"need res_blocks >= 0 and base_channels >= 1, got {res_blocks}, {base_channels}")
        c, bias = base_channels, conv_bias(norm)

        def act(ch: int) -> list[nn.Module]:
            return [make_norm(norm, ch), nn.ReLU(inplace=True)]

        self.stem = nn.Sequential(
            ReflectConv2d(in_channels, c, 7, padding=3, bias=bias), *act(c))
        self.down = nn.Sequential(
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=bias),
            ReflectConv2d(2 * c, 2 * c, 3, padding=1, bias=bias), *act(2 * c),
            nn.Conv2d(2 * c, 4 * c, 3, stride=2, padding=1, bias=bias),
            ReflectConv2d(4 * c, 4 * c, 3, padding=1, bias=bias), *act(4 * c),
        )
        self.body = nn.Sequential(*(ResidualBlock(4 * c, norm) for _ in range(res_blocks)))
        self.up = nn.Sequential(
            upsample2x(4 * c, 2 * c, upsample, bias),
            ReflectConv2d(2 * c, 2 * c, 3, padding=1, bias=bias), *act(2 * c),
            upsample2x(2 * c, c, upsample, bias),
            ReflectConv2d(c, c, 3, padding=1, bias=bias), *act(c),
        )
        self.head = nn.Sequential(ReflectConv2d(c, out_channels, 7, padding=3), nn.Tanh())
        init_gan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_size(x, self.size_multiple, type(self).__name__)
        return self.head(self.up(self.body(self.down(self.stem(x)))))


@renamed_params(n_blocks="res_blocks")  # old name (CycleGAN's), accepted until the next release
class ResnetGenerator(nn.Module):
    """CycleGAN's ResNet generator: c7s1-64, d128, d256, ``res_blocks`` × R256, u128, u64, c7s1-3, tanh.

    As in Zhu et al. (ICCV 2017) and their code: reflection padding, transposed-conv upsampling,
    instance norm without affine parameters by default.

    Args:
        base_channels: channels of the first layer (``ngf``, 64).
        res_blocks: residual blocks (CycleGAN's ``n_blocks``): 9 for 256² images, 6 for 128².
        norm: ``instance``, ``batch``, ``group`` or ``none``.
        dropout: use dropout 0.5 inside residual blocks (CycleGAN's ``--no_dropout`` off).
        upsample: ``transpose`` (CycleGAN) or ``nearest``/``bilinear`` + conv.
        in_channels: input image channels.
        out_channels: output image channels.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)`, H and W divisible by 4, values in [-1, 1].
        - Output: :math:`(N, C_{out}, H, W)`, values in [-1, 1].

    Example:
        >>> g = ResnetGenerator(base_channels=8, res_blocks=2)
        >>> g(torch.zeros(1, 3, 16, 8)).shape
        torch.Size([1, 3, 16, 8])
    """

    size_multiple: ClassVar[int] = 4

    def __init__(
        self,
        base_channels: int = 64,
        res_blocks: int = 9,
        norm: NormName = "instance",
        dropout: bool = False,
        upsample: UpsampleMode = "transpose",
        in_channels: int = 3,
        out_channels: int = 3,
    ) -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        if res_blocks < 0:
            raise ValueError(f"res_blocks must be >= 0, got {res_blocks}")
        c, bias = base_channels, conv_bias(norm)
        layers: list[nn.Module] = [
            ReflectConv2d(in_channels, c, 7, padding=3, bias=bias),
            make_norm(norm, c), nn.ReLU(inplace=True),
        ]
        for mult in (1, 2):
            layers += [nn.Conv2d(c * mult, c * mult * 2, 3, stride=2, padding=1, bias=bias),
                       make_norm(norm, c * mult * 2), nn.ReLU(inplace=True)]
        layers += [ResidualBlock(4 * c, norm, 0.5 if dropout else 0.0) for _ in range(res_blocks)]
        for mult in (4, 2):
            layers += [upsample2x(c * mult, c * mult // 2, upsample, bias),
                       make_norm(norm, c * mult // 2), nn.ReLU(inplace=True)]
        layers += [ReflectConv2d(c, out_channels, 7, padding=3), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_gan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_size(x, self.size_multiple, type(self).__name__)
        return self.model(x)


class _UNetLevel(nn.Module):
    """One level of the pix2pix U-Net: down conv, the inner levels, up conv, skip concatenation."""

    def __init__(self, outer: int, inner: int, sub: nn.Module | None, in_channels: int, norm: str,
                 outermost: bool, dropout: bool, out_channels: int) -> None:
        super().__init__()
        bias = conv_bias(norm)
        down: list[nn.Module] = []
        if not outermost:  # the image itself is not passed through an activation
            down.append(nn.LeakyReLU(0.2, inplace=False))
        down.append(nn.Conv2d(in_channels, inner, 4, stride=2, padding=1, bias=bias))
        if not outermost and sub is not None:  # no norm on the 1×1 bottleneck or on the image level
            down.append(make_norm(norm, inner))
        up_in = inner if sub is None else inner * 2
        up: list[nn.Module] = [nn.ReLU(inplace=False)]
        if outermost:
            up += [nn.ConvTranspose2d(up_in, out_channels, 4, stride=2, padding=1), nn.Tanh()]
        else:
            up += [nn.ConvTranspose2d(up_in, outer, 4, stride=2, padding=1, bias=bias), make_norm(norm, outer)]
            if dropout:
                up.append(nn.Dropout(0.5))
        self.outermost = outermost
        self.down = nn.Sequential(*down)
        self.sub = sub if sub is not None else nn.Identity()
        self.up = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(self.sub(self.down(x)))
        return y if self.outermost else torch.cat([x, y], dim=1)


@renamed_params(num_downs="depth")  # old name (pix2pix's), accepted until the next release
class UNetGenerator(nn.Module):
    """pix2pix U-Net generator (``unet_256`` with ``depth=8``): skip connections at every level.

    Level ``i`` (0 = image level) has ``base_channels · min(2^i, 8)`` channels; 4×4 stride-2 convs go
    down, transposed convs come up; dropout 0.5 acts on the up path of the 8×-wide levels between the
    fourth level and the bottleneck, pix2pix's only source of noise.

    Args:
        base_channels: channels of the first level (``ngf``, 64).
        depth: number of stride-2 downsamplings (pix2pix's ``num_downs``); the input size must be a
            multiple of ``2 ** depth`` (8 → 256 for a 256² image, bottleneck 1×1).
        norm: ``batch`` (pix2pix), ``instance``, ``group`` or ``none``.
        dropout: pix2pix's dropout in the inner levels (on by default, as in pix2pix).
        in_channels: input channels (3: pix2pix in toonkit takes a 3-channel outline image).
        out_channels: output image channels.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)`, H and W divisible by ``2 ** depth``.
        - Output: :math:`(N, C_{out}, H, W)`, values in [-1, 1].

    Example:
        >>> g = UNetGenerator(base_channels=8, depth=3)
        >>> g.size_multiple, g(torch.zeros(1, 3, 24, 16)).shape
        (8, torch.Size([1, 3, 24, 16]))
    """

    size_multiple: int = 2 ** 8  # class default for depth=8; instances set their own

    def __init__(
        self,
        base_channels: int = 64,
        depth: int = 8,
        norm: NormName = "batch",
        dropout: bool = True,
        in_channels: int = 3,
        out_channels: int = 3,
    ) -> None:
        super().__init__()
        check_choice("norm", norm, NORMS)
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.size_multiple = 2 ** depth

        def width(i: int) -> int:
            return base_channels * min(2 ** i, 8)

        level: nn.Module | None = None
        for i in reversed(range(depth)):  # build from the bottleneck outwards
            outer = width(i - 1) if i > 0 else out_channels
            inner = width(i)
            level_in = width(i - 1) if i > 0 else in_channels
            use_dropout = dropout and 4 <= i < depth - 1
            level = _UNetLevel(outer, inner, level, level_in, norm, i == 0, use_dropout, out_channels)
        assert level is not None  # depth >= 1
        self.model: nn.Module = level
        init_gan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_size(x, self.size_multiple, type(self).__name__)
        return self.model(x)


def register(registry: PluginRegistry) -> None:
    registry.add("generator", "cartoongan", CartoonGANGenerator)
    registry.add("generator", "resnet", ResnetGenerator)
    registry.add("generator", "unet", UNetGenerator)
