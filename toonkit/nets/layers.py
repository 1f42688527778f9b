"""Building blocks shared by toonkit's generators, discriminators and maskers.

Every network takes a ``norm`` name rather than a layer class so recipes can choose it with a plain
string; :func:`make_norm` turns the name into a layer.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

NormName = Literal["instance", "batch", "group", "none"]
NORMS: tuple[str, ...] = ("instance", "batch", "group", "none")
UpsampleMode = Literal["transpose", "nearest", "bilinear"]
UPSAMPLE_MODES: tuple[str, ...] = ("transpose", "nearest", "bilinear")


def check_choice(what: str, value: str, options: tuple[str, ...]) -> None:
    """Raise a ``ValueError`` naming the valid options when ``value`` is not one of them."""
    if value not in options:
        from toonkit.registry import did_you_mean

        raise ValueError(f"unknown {what} {value!r}{did_you_mean(str(value), options)} "
                         f"(options: {', '.join(options)})")


class _ReflectPadKeepDtype(torch.autograd.Function):
    """Reflection padding of a low-precision CPU tensor in its own dtype, outside autocast.

    CPU autocast computes ``reflection_pad2d`` in fp32: a bf16 activation is copied up to fp32, padded,
    and copied back down by the convolution that follows, forward and backward. Padding only moves values,
    so padding in bf16 gives the convolution the same input; the backward runs the fp32 padding backward
    on the up-cast gradient and casts the result down, exactly as the autocast path does. Same numbers,
    two activation-sized copies fewer per padded convolution.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, pad: list[int]) -> torch.Tensor:
        ctx.shape, ctx.pad, ctx.dtype = x.shape, pad, x.dtype
        with torch.autocast(x.device.type, enabled=False):
            return F.pad(x, pad, mode="reflect")

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        grad32 = grad.float()
        dx = torch.ops.aten.reflection_pad2d_backward(grad32, grad32.new_empty(ctx.shape), list(ctx.pad))
        return dx.to(ctx.dtype), None


class ReflectConv2d(nn.Conv2d):
    """``nn.Conv2d`` with reflection padding (``padding_mode="reflect"``) that is cheaper under CPU autocast.

    Identical parameters, state dict and results to ``nn.Conv2d(..., padding_mode="reflect")``, outputs
    and gradients bit for bit (``tests/nets/test_layers.py``); under CPU bf16 autocast it skips the fp32
    round trip of the padded activation (see :class:`_ReflectPadKeepDtype`), 6-11 % of a generator's
    forward and backward (``benchmarks/perf.md``).

    Example:
        >>> conv = ReflectConv2d(8, 8, 3, padding=1)
        >>> conv(torch.zeros(1, 8, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - nn.Conv2d's own signature
        kwargs.setdefault("padding_mode", "reflect")
        super().__init__(*args, **kwargs)

    def _conv_forward(self, input: torch.Tensor, weight: torch.Tensor,
                      bias: torch.Tensor | None) -> torch.Tensor:
        if (self.padding_mode == "reflect" and input.device.type == "cpu" and input.dim() == 4
                and input.dtype in (torch.bfloat16, torch.float16) and torch.is_autocast_enabled("cpu")):
            padded = _ReflectPadKeepDtype.apply(input, list(self._reversed_padding_repeated_twice))
            return F.conv2d(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return super()._conv_forward(input, weight, bias)


class InstanceNorm2d(nn.InstanceNorm2d):
    """Instance normalisation computed as group normalisation with one channel per group.

    The two are the same function (per-sample, per-channel mean and biased variance over H×W), but
    PyTorch's ``instance_norm`` copies its input into a batch-norm layout first, while ``group_norm``
    has a fused kernel: on the CPU it is 2–4× faster on contiguous tensors and up to 16× on
    channels-last ones, which made instance norm a third of the generator's inference time
    (``benchmarks/perf.md``). Other devices use PyTorch's instance norm, since they have not been
    measured. Parameters, buffers and ``state_dict`` are those of
    :class:`torch.nn.InstanceNorm2d`, so checkpoints load either way. With ``track_running_stats``
    in eval mode, the running statistics are used as usual.

    Shape:
        - Input: :math:`(N, C, H, W)` (or :math:`(C, H, W)`).
        - Output: same as the input.

    Example:
        >>> x = torch.randn(2, 4, 8, 8)
        >>> torch.allclose(InstanceNorm2d(4)(x), nn.InstanceNorm2d(4)(x), atol=1e-5)
        True
    """

    def _apply_instance_norm(self, input: torch.Tensor) -> torch.Tensor:
        # torch's forward checks the input (3-D or 4-D) and adds a batch dimension to unbatched inputs,
        # then calls this;
        # written without super() so the layer stays scriptable with torch.jit.script
        # CPU only: that is where it was measured; GPUs keep PyTorch's kernel until they are.
        # num_features, a constant, as the group count: ONNX's legacy exporter needs it constant
        if input.device.type == "cpu" and not self.track_running_stats and input.size(1) == self.num_features:
            return F.group_norm(input, self.num_features, self.weight, self.bias, self.eps)
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)


def make_norm(norm: str, channels: int) -> nn.Module:
    """A normalisation layer by name.

    ``instance`` has no affine parameters and no running statistics, as in CycleGAN/pix2pix; ``group``
    uses up to 32 groups (the largest divisor of ``channels`` not above 32); ``none`` is the identity.

    Args:
        norm: one of ``instance``, ``batch``, ``group``, ``none``.
        channels: number of feature channels.

    Example:
        >>> make_norm("group", 48).num_groups
        16
    """
    check_choice("norm", norm, NORMS)
    if norm == "instance":
        return InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        return nn.GroupNorm(math.gcd(32, channels), channels)
    return nn.Identity()


def conv_bias(norm: str) -> bool:
    """Whether a convolution followed by ``norm`` needs its own bias (a learnt norm shift makes it redundant)."""
    return norm in ("instance", "none")


class ResidualBlock(nn.Module):
    """Two 3×3 convolutions with a skip connection: ``x + norm(conv(relu(norm(conv(x)))))``.

    Reflection padding keeps borders free of the dark frame zero padding leaves in translated images.

    Args:
        channels: input and output channels.
        norm: normalisation name (see :func:`make_norm`).
        dropout: dropout probability between the two convolutions (CycleGAN's ``use_dropout``).

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H, W)`
    """

    def __init__(self, channels: int, norm: str = "instance", dropout: float = 0.0) -> None:
        super().__init__()
        bias = conv_bias(norm)
        layers: list[nn.Module] = [
            ReflectConv2d(channels, channels, 3, padding=1, bias=bias),
            make_norm(norm, channels),
            nn.ReLU(inplace=True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [
            ReflectConv2d(channels, channels, 3, padding=1, bias=bias),
            make_norm(norm, channels),
        ]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def upsample2x(in_channels: int, out_channels: int, mode: str, bias: bool = True) -> nn.Module:
    """Double the resolution and map ``in_channels`` to ``out_channels``.

    ``transpose`` is a 3×3 transposed convolution with stride 2 (CartoonGAN's and CycleGAN's choice);
    ``nearest``/``bilinear`` resize then apply a 3×3 convolution, which avoids checkerboard artefacts.
    """
    check_choice("upsample mode", mode, UPSAMPLE_MODES)
    if mode == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1,
                                  bias=bias)
    align = False if mode == "bilinear" else None
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode=mode, align_corners=align),
        ReflectConv2d(in_channels, out_channels, 3, padding=1, bias=bias),
    )


def init_gan_weights(module: nn.Module, std: float = 0.02) -> None:
    """DCGAN/pix2pix initialisation: conv weights ~ N(0, std), norm scales ~ N(1, std), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def check_size(x: torch.Tensor, multiple: int, who: str) -> None:
    """Raise a clear error when the input's H or W is not a multiple of ``multiple``.

    Skipped while tracing, scripting or compiling: exporters see symbolic sizes, and a Python check on
    them would pin the exported graph to one size.
    """
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        ph, pw = -(-h // multiple) * multiple, -(-w // multiple) * multiple
        raise ValueError(f"{who} needs H and W divisible by {multiple}, got {h}×{w}; "
                         f"pad or resize to {ph}×{pw}")
