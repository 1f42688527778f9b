"""Background modes: put the cartoonised person over white, a blurred photo, the photo, or nothing.

The paper tried replacing the background *before* translation (white, another colour, blur) and found
it weaker than its masker-in-the-loop training; here the same alternatives are offered *after*
translation, as output features: the masker says where the person is and the cartoon is composited
over the chosen background. All functions are plain tensor code, so exported models (ONNX,
TorchScript) composite exactly as :meth:`toonkit.translate.Cartoonizer.translate` does.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: every background mode, in the order the CLI, the demo and the docs list them (the one list of them)
BACKGROUNDS: tuple[str, ...] = ("keep", "white", "blur", "original", "transparent")
#: modes that need a person mask: all but ``keep``
NEEDS_MASK: frozenset[str] = frozenset(BACKGROUNDS) - {"keep"}
#: blur strength of ``blur`` as a fraction of the image's short side (a 256² image: sigma ≈ 7.7 px)
BLUR_FRACTION = 0.03


def check_background(mode: str) -> None:
    """Raise ``ValueError`` naming the valid modes when ``mode`` is not one of :data:`BACKGROUNDS`."""
    if mode not in BACKGROUNDS:
        from toonkit.registry import did_you_mean

        raise ValueError(f"unknown background {mode!r}{did_you_mean(str(mode), BACKGROUNDS)} "
                         f"(options: {', '.join(BACKGROUNDS)})")


def blur_sigma(height: int, width: int, fraction: float = BLUR_FRACTION) -> float:
    """Gaussian sigma in pixels for the ``blur`` background of an image of this size."""
    return max(0.5, fraction * min(height, width))


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)`` with replicated borders (works for any size).

    Args:
        x: images.
        sigma: standard deviation in pixels; the kernel spans ±3 sigma.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H, W)`

    Example:
        >>> gaussian_blur(torch.ones(1, 3, 8, 8), 2.0).allclose(torch.ones(1, 3, 8, 8))
        True
    """
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = (k / k.sum()).to(x.dtype)
    # channels folded into the batch: one single-channel kernel of constant shape, which exporters need
    out = x.flatten(0, 1).unsqueeze(1)
    out = F.conv2d(F.pad(out, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    out = F.conv2d(F.pad(out, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))
    return out.view_as(x)


def composite(cartoon: torch.Tensor, photo: torch.Tensor, mask: torch.Tensor | None,
              mode: str = "keep", sigma: float | None = None) -> torch.Tensor:
    """Combine a translated image with a background according to ``mode``.

    ``keep`` returns the cartoon as is; ``white``, ``blur`` and ``original`` blend
    ``mask · cartoon + (1 − mask) · background`` with a white image, the Gaussian-blurred photo or the
    photo itself; ``transparent`` appends the mask as a fourth (alpha) channel.

    Args:
        cartoon: the generator's output, values in [-1, 1].
        photo: the photo it was made from (same size), values in [-1, 1].
        mask: person mask in [0, 1]; required by every mode except ``keep``.
        mode: one of :data:`BACKGROUNDS`.
        sigma: blur in pixels for ``blur`` (default: :func:`blur_sigma` of the image size).

    Shape:
        - cartoon, photo: :math:`(N, 3, H, W)`
        - mask: :math:`(N, 1, H, W)`
        - Output: :math:`(N, 3, H, W)`; :math:`(N, 4, H, W)` for ``transparent``, RGB in [-1, 1] and
          alpha in [0, 1].

    Example:
        >>> c, p, m = -torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 4)
        >>> composite(c, p, m, "white").unique().tolist()
        [1.0]
    """
    check_background(mode)
    if mode == "keep":
        return cartoon
    if mask is None:
        raise ValueError(f"background {mode!r} needs a person mask (a masker)")
    mask = mask.to(cartoon.dtype)
    if mode == "transparent":
        return torch.cat([cartoon, mask], dim=1)
    # one output tensor per blend, no full-size temporaries: at the 16.8 M-pixel budget each is 200 MB
    if mode == "white":
        return (cartoon - 1).mul_(mask).add_(1)  # mask · cartoon + (1 − mask) · 1
    if mode == "original":
        background = photo.to(cartoon.dtype)
    else:
        s = sigma if sigma is not None else blur_sigma(*photo.shape[-2:])
        background = gaussian_blur(photo.to(cartoon.dtype), s)
    return torch.lerp(background, cartoon, mask)  # mask · cartoon + (1 − mask) · background
