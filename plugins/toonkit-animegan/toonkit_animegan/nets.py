"""AnimeGANv2's networks: a light generator (inverted residual blocks, layer norm) and its
spectral-normalised patch discriminator (Chen, Liu, Chen 2020; the authors' TensorFlow release)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

Padding = int | tuple[int, int, int, int]


def layer_norm(channels: int) -> nn.GroupNorm:
    """TensorFlow's ``layer_norm`` on NHWC maps: statistics over C, H, W per image, affine per channel."""
    return nn.GroupNorm(1, channels, affine=True)


class ConvNormLReLU(nn.Sequential):
    """Reflection pad → conv (no bias) → layer norm → LeakyReLU(0.2), AnimeGANv2's basic layer."""

    def __init__(self, cin: int, cout: int, kernel_size: int = 3, stride: int = 1, padding: Padding = 1,
                 groups: int = 1, bias: bool = False) -> None:
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(cin, cout, kernel_size, stride, padding=0, groups=groups, bias=bias),
            layer_norm(cout),
            nn.LeakyReLU(0.2, inplace=True),
        )


class InvertedResBlock(nn.Module):
    """MobileNetV2 inverted residual: 1×1 expand → 3×3 depthwise → 1×1 project (+ skip when shapes match)."""

    def __init__(self, cin: int, cout: int, expansion: float = 2.0) -> None:
        super().__init__()
        hidden = round(cin * expansion)
        self.skip = cin == cout
        self.layers = nn.Sequential(
            ConvNormLReLU(cin, hidden, kernel_size=1, padding=0),
            ConvNormLReLU(hidden, hidden, groups=hidden, bias=True),
            nn.Conv2d(hidden, cout, 1, bias=False),
            layer_norm(cout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.skip else out


class AnimeGANGenerator(nn.Module):
    """AnimeGANv2 generator: two stride-2 stages, inverted residual blocks, bilinear upsampling, tanh.

    Blocks A–E of the authors' ``generator.py`` (about 2.1 M parameters with the defaults, a quarter of
    CartoonGAN's): A, B downsample with reflection-padded stride-2 convolutions; C holds ``res_blocks``
    inverted residual blocks of ``4·base`` channels; D, E upsample bilinearly back to the exact input
    size, so any H, W ≥ 4 works.

    Args:
        base_channels: channels of the first stage (32 in AnimeGANv2).
        res_blocks: inverted residual blocks in block C (AnimeGANv2: 4; its predecessor AnimeGAN: 8).
        expansion: the blocks' expansion ratio (2 in AnimeGANv2).

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1].
        - Output: :math:`(N, 3, H, W)` in [-1, 1].

    Example:
        >>> g = AnimeGANGenerator(base_channels=8, res_blocks=1)
        >>> g(torch.zeros(2, 3, 30, 22)).shape
        torch.Size([2, 3, 30, 22])
    """

    def __init__(self, base_channels: int = 32, res_blocks: int = 4, expansion: float = 2.0) -> None:
        super().__init__()
        if base_channels < 1 or res_blocks < 0:
            raise ValueError(f"need base_channels >= 1 and res_blocks >= 0, got {base_channels}, "
                             f"{res_blocks}")
        c = base_channels
        # stride-2 convs pad right/bottom only, like TensorFlow's "SAME" for even sizes
        self.block_a = nn.Sequential(ConvNormLReLU(3, c, 7, padding=3),
                                     ConvNormLReLU(c, 2 * c, stride=2, padding=(0, 1, 0, 1)),
                                     ConvNormLReLU(2 * c, 2 * c))
        self.block_b = nn.Sequential(ConvNormLReLU(2 * c, 4 * c, stride=2, padding=(0, 1, 0, 1)),
                                     ConvNormLReLU(4 * c, 4 * c))
        blocks = [InvertedResBlock(4 * c if i == 0 else 8 * c, 8 * c, expansion) for i in range(res_blocks)]
        self.block_c = nn.Sequential(ConvNormLReLU(4 * c, 4 * c), *blocks,
                                     ConvNormLReLU(8 * c if res_blocks else 4 * c, 4 * c))
        self.block_d = nn.Sequential(ConvNormLReLU(4 * c, 4 * c), ConvNormLReLU(4 * c, 4 * c))
        self.block_e = nn.Sequential(ConvNormLReLU(4 * c, 2 * c), ConvNormLReLU(2 * c, 2 * c),
                                     ConvNormLReLU(2 * c, c, 7, padding=3))
        self.out_layer = nn.Conv2d(c, 3, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] < 4 or x.shape[-1] < 4:
            raise ValueError(f"AnimeGANGenerator needs H, W >= 4, got {tuple(x.shape[-2:])}")
        out = self.block_a(x)
        half = out.shape[-2:]
        out = self.block_c(self.block_b(out))
        out = self.block_d(F.interpolate(out, size=half, mode="bilinear", align_corners=True))
        out = self.block_e(F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=True))
        return torch.tanh(self.out_layer(out))


class AnimeGANDiscriminator(nn.Module):
    """AnimeGANv2 discriminator: CartoonGAN's patch layout with layer norm and spectral normalisation.

    ``conv(c/2) → [conv s2 (c), conv (2c), LN] → [conv s2 (2c), conv (4c), LN] → conv (4c), LN → conv (1)``
    with LeakyReLU(0.2) between (``c = base_channels``, ``n_layers - 1`` strided stages); every conv is
    bias-free and spectrally normalised when ``spectral`` is set, as in the authors' ``D_net``.

    Args:
        base_channels: AnimeGANv2's ``ch`` (64; the first conv has half of it).
        n_layers: AnimeGANv2's ``n_dis`` (3): ``n_layers - 1`` stride-2 stages.
        spectral: spectral normalisation on every convolution.

    Shape:
        - Input: :math:`(N, 3, H, W)`.
        - Output: :math:`(N, 1, H / 2^{n-1}, W / 2^{n-1})` logits (rounded up).

    Example:
        >>> d = AnimeGANDiscriminator(base_channels=16)
        >>> d(torch.zeros(2, 3, 32, 24)).shape
        torch.Size([2, 1, 8, 6])
    """

    def __init__(self, base_channels: int = 64, n_layers: int = 3, spectral: bool = True) -> None:
        super().__init__()
        if base_channels < 2 or n_layers < 1:
            raise ValueError(f"need base_channels >= 2 and n_layers >= 1, got {base_channels}, {n_layers}")

        def conv(cin: int, cout: int, stride: int = 1) -> nn.Module:
            layer = nn.Conv2d(cin, cout, 3, stride, padding=1, bias=False)
            return spectral_norm(layer) if spectral else layer

        ch = cin = base_channels // 2
        layers: list[nn.Module] = [conv(3, ch), nn.LeakyReLU(0.2, inplace=True)]
        for _ in range(1, n_layers):
            layers += [conv(cin, 2 * ch, 2), nn.LeakyReLU(0.2, inplace=True),
                       conv(2 * ch, 4 * ch), layer_norm(4 * ch), nn.LeakyReLU(0.2, inplace=True)]
            cin, ch = 4 * ch, 2 * ch
        layers += [conv(cin, 2 * ch), layer_norm(2 * ch), nn.LeakyReLU(0.2, inplace=True), conv(2 * ch, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
