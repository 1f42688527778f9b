"""Edge smoothing of cartoons (CartoonGAN's edge-promoting negatives), reproducing OpenCV in torch.

The recipe every CartoonGAN reimplementation copies (taki0112's ``edge_smooth.py``) is: grayscale →
``cv2.Canny(gray, 100, 200)`` → ``cv2.dilate`` with a 5×5 ones kernel → 5×5 Gaussian blur of the colour
image (sigma 0, i.e. the binomial kernel [1, 4, 6, 4, 1] / 16, reflect padding) written back only on the
dilated pixels. Kornia's ``canny`` differs from OpenCV's (it blurs first, uses the L2 magnitude and float
thresholds) and its hysteresis is a few hundred times slower on CPU, so this module re-implements
OpenCV's exact integer semantics on whole batches:

* grayscale with OpenCV's fixed-point weights (19596, 38470, 7470) / 2**16, rounded like ``cvtColor``;
* 3×3 Sobel with replicated borders, no pre-blur, L1 magnitude ``|dx| + |dy|``;
* non-maximum suppression along 4 directions decided with OpenCV's fixed-point tan(22.5°) test and its
  tie rules (strict towards left / up, non-strict towards right / down, strict on both diagonals);
* double threshold ``m > floor(low)`` (weak) and ``m > floor(high)`` (strong);
* hysteresis as connected components of the weak pixels (8-connectivity): a weak pixel survives iff its
  component holds a strong pixel. Components come from a union-find with pointer jumping on the sparse
  set of weak pixels, which needs O(log n) rounds instead of one 3×3 max-pool per pixel of chain length.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from toonkit.imaging import to_levels

__all__ = ["EdgeSmooth", "canny", "edge_smooth", "gaussian_kernel1d", "rgb_to_gray_u8", "to_u8"]

# OpenCV's fixed-point constants (imgproc/src/canny.cpp and color_rgb.cpp).
_CANNY_SHIFT = 15
_TG22 = int(0.4142135623730950488016887242097 * (1 << _CANNY_SHIFT) + 0.5)  # 13573
# OpenCV 5's weights; OpenCV 3-4 used (4899, 9617, 1868) >> 14, one level off on ~0.004% of pixels.
_GRAY_SHIFT = 16
_GRAY_WEIGHTS = (19596, 38470, 7470)  # R, G, B; sum 2**16


def to_u8(x: Tensor) -> Tensor:
    """Map an image in [-1, 1] to integer gray levels 0..255 (as float32), rounding like a PNG save.

    The shared :func:`toonkit.imaging.to_levels`, under the name this module's callers know.

    Shape:
        - x: (*)
        - output: (*), float32 holding integers
    """
    return to_levels(x)


def rgb_to_gray_u8(rgb: Tensor) -> Tensor:
    """OpenCV's ``cvtColor(RGB2GRAY)`` on 8-bit data: ``(19596 R + 38470 G + 7470 B + 2**15) >> 16``.

    Args:
        rgb: integer levels 0..255 (any dtype holding integers).

    Shape:
        - rgb: (N, 3, H, W)
        - output: (N, 1, H, W), float32 holding integers
    """
    # The weighted sum stays below 2**24, so float32 computes it exactly (and faster than int32 here).
    r, g, b = rgb.float().unbind(1)
    wr, wg, wb = _GRAY_WEIGHTS
    acc = r * wr
    acc.add_(g, alpha=wg).add_(b, alpha=wb).add_(1 << (_GRAY_SHIFT - 1))
    return acc.mul_(1.0 / (1 << _GRAY_SHIFT)).floor_().unsqueeze(1)


def _sobel_padded(gray: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Sobel dx, dy and L1 magnitude on a one-pixel padded grid, magnitude zero on that border.

    OpenCV's Canny takes 3×3 Sobel derivatives with replicated borders and surrounds the magnitude
    with zeros; computing on the padded grid lets neighbour look-ups be flat offsets. Every value is an
    integer below 2**11, exact in float32.
    """
    p = F.pad(gray.float(), (2, 2, 2, 2), mode="replicate")  # (H+4, W+4) -> derivatives on (H+2, W+2)
    diff_x = p[..., :, 2:] - p[..., :, :-2]  # [-1, 0, 1] along x
    dx = diff_x[..., :-2, :] + diff_x[..., 2:, :]
    dx.add_(diff_x[..., 1:-1, :], alpha=2)  # [1, 2, 1] along y
    smooth_x = p[..., :, :-2] + p[..., :, 2:]
    smooth_x.add_(p[..., :, 1:-1], alpha=2)
    dy = smooth_x[..., 2:, :] - smooth_x[..., :-2, :]
    mag = dx.abs().add_(dy.abs())
    mag[..., 0, :] = 0
    mag[..., -1, :] = 0
    mag[..., :, 0] = 0
    mag[..., :, -1] = 0
    return dx, dy, mag


def _non_max_suppression(
    dx: Tensor, dy: Tensor, mag: Tensor, low: int, high: int
) -> tuple[Tensor, Tensor]:
    """Flat positions (in the padded grid) of the pixels surviving non-max suppression.

    Only pixels with ``mag > low`` (typically ~15%) are examined, each against the two neighbours along
    its quantised gradient direction, exactly like OpenCV:

    * ``|dy| * 2**15 < |dx| * TG22``: horizontal, keep if ``m > left and m >= right``;
    * ``|dy| * 2**15 > |dx| * (TG22 + 2**16)``: vertical, keep if ``m > up and m >= down``;
    * otherwise diagonal (up-left/down-right when dx, dy share a sign, else up-right/down-left), keep
      if strictly greater than both.

    Returns:
        (weak, is_strong): sorted int64 flat positions of the weak pixels (``m > low``) and whether
        each is also strong (``m > high``).
    """
    wp = mag.shape[-1]
    flat_mag = mag.reshape(-1)
    pos = (flat_mag > low).nonzero().squeeze(1)
    # index_select/take are much faster than advanced indexing for 1-D gathers
    m = flat_mag.index_select(0, pos)
    gx, gy = dx.reshape(-1).index_select(0, pos), dy.reshape(-1).index_select(0, pos)
    ax, ay = gx.abs(), gy.abs()
    # Both tests are exact in float32: every product is an integer below 2**27 with few low bits set.
    tg22x = ax * _TG22
    horizontal = ay * (1 << _CANNY_SHIFT) < tg22x
    vertical = (ay - 2 * ax) * (1 << _CANNY_SHIFT) > tg22x  # |dy|·2**15 > |dx|·(TG22 + 2**16)
    same_sign = (gx >= 0) == (gy >= 0)  # OpenCV: s = (xs ^ ys) < 0 ? -1 : 1
    # offset to the neighbour "after" the pixel: right / down / down-right / down-left
    off = torch.where(same_sign, wp + 1, wp - 1)
    off = torch.where(vertical, wp, off)
    off = torch.where(horizontal, 1, off)
    before = flat_mag.take(pos - off)  # left / up / up-left / up-right
    after = flat_mag.take(pos + off)
    diagonal = ~(horizontal | vertical)
    keep = (m > before) & ((m > after) | (~diagonal & (m == after)))
    return pos.masked_select(keep), m.masked_select(keep) > high


def _hysteresis(weak: Tensor, is_strong: Tensor, numel: int, wp: int) -> Tensor:
    """Keep the 8-connected components of the weak pixels that contain a strong pixel.

    Strong pixels are edges outright; only the weak-but-not-strong pixels (~2% of the image) need a
    decision. They form the nodes of a union-find run in rounds of "hook each root to the smallest
    root it touches" followed by full pointer-jumping compression, so a chain of any length converges
    in a logarithmic number of rounds, unlike the one-pixel-per-iteration 3×3 max-pool propagation.
    A component survives if one of its pixels touches a strong pixel.

    Args:
        weak: sorted flat int64 positions in the padded grid (borders never weak).
        is_strong: bool per weak pixel.
        numel: number of pixels of the padded grid; wp: its row length.

    Returns:
        flat bool edge map of ``numel`` pixels.
    """
    device = weak.device
    out = torch.zeros(numel, dtype=torch.bool, device=device)
    strong = weak.masked_select(is_strong)
    out.index_fill_(0, strong, True)
    nodes = weak.masked_select(~is_strong)  # weak-but-not-strong positions
    n = nodes.numel()
    if n == 0:
        return out
    # Label image: -1 nothing, -2 strong, k >= 0 the k-th weak-only pixel. int32 halves the traffic.
    code = torch.full((numel,), -1, dtype=torch.int32, device=device)
    code.index_fill_(0, strong, -2)
    ids = torch.arange(n, device=device)
    code.index_copy_(0, nodes, ids.to(torch.int32))

    offsets = torch.tensor([1, wp - 1, wp, wp + 1, -1, -wp + 1, -wp, -wp - 1], device=device)
    nb = code.take(nodes.unsqueeze(0) + offsets.unsqueeze(1))  # (8, n), forward offsets first
    touches = (nb == -2).any(0)
    fwd = nb[:4] >= 0  # each undirected weak-weak edge once
    u = ids.expand(4, n).masked_select(fwd)
    v = nb[:4].masked_select(fwd).long()

    parent = ids  # every node its own root; parent is only ever replaced, never written in place
    while u.numel():
        pu, pv = parent.take(u), parent.take(v)
        differ = pu != pv
        if not bool(differ.any()):
            break
        # Edges inside one tree stay inside it: drop them so later rounds touch fewer edges.
        u, v, pu, pv = (t.masked_select(differ) for t in (u, v, pu, pv))
        parent = parent.scatter_reduce(0, torch.maximum(pu, pv), torch.minimum(pu, pv), reduce="amin")
        while True:  # full path compression: afterwards parent[x] is a root for every x
            grand = parent.take(parent)
            if torch.equal(grand, parent):
                break
            parent = grand

    keep = torch.zeros(n, dtype=torch.bool, device=device)
    keep.index_fill_(0, parent.masked_select(touches), True)
    out.index_fill_(0, nodes.masked_select(keep.take(parent)), True)
    return out


def canny(gray: Tensor, low_threshold: float = 100.0, high_threshold: float = 200.0) -> Tensor:
    """OpenCV's ``cv2.Canny(gray, low, high)`` (aperture 3, L1 gradient) on a batch of 8-bit grays.

    Args:
        gray: integer gray levels 0..255 (any dtype holding integers).
        low_threshold: hysteresis low threshold on ``|dx| + |dy|``.
        high_threshold: hysteresis high threshold.

    Shape:
        - gray: (N, 1, H, W)
        - output: (N, 1, H, W) bool edge map

    Example:
        >>> g = torch.zeros(1, 1, 16, 16); g[..., 8:] = 255
        >>> canny(g)[0, 0, 4].nonzero().flatten().tolist()
        [8]
    """
    if gray.ndim != 4 or gray.shape[1] != 1:
        raise ValueError(f"canny expects N×1×H×W gray images, got shape {tuple(gray.shape)}")
    if low_threshold > high_threshold:  # OpenCV swaps them too
        low_threshold, high_threshold = high_threshold, low_threshold
    low, high = math.floor(low_threshold), math.floor(high_threshold)  # OpenCV: cvFloor
    dx, dy, mag = _sobel_padded(gray)
    weak, is_strong = _non_max_suppression(dx, dy, mag, low, high)
    edges = _hysteresis(weak, is_strong, mag.numel(), mag.shape[-1]).view(mag.shape)
    return edges[..., 1:-1, 1:-1]


def gaussian_kernel1d(ksize: int) -> list[float]:
    """``cv2.getGaussianKernel(ksize, 0)``: OpenCV's fixed kernels up to 7 taps, else its sigma formula
    ``0.3 * ((ksize - 1) / 2 - 1) + 0.8`` (OpenCV 4; OpenCV 5 also tabulates 9 taps)."""
    fixed = {
        1: [1.0],
        3: [0.25, 0.5, 0.25],
        5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
        7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
    }
    if ksize in fixed:
        return fixed[ksize]
    if ksize < 1 or ksize % 2 == 0:
        raise ValueError(f"Gaussian kernel size must be odd and positive, got {ksize}")
    sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    t = torch.arange(ksize, dtype=torch.float64) - (ksize - 1) / 2
    k = torch.exp(-(t**2) / (2 * sigma**2))
    return (k / k.sum()).tolist()


def _reflect_pad(x: Tensor, pad: int, dim: int) -> Tensor:
    """Reflect-101 padding (``cv2.BORDER_DEFAULT``, numpy ``reflect``) of one dim by concatenation."""
    n = x.shape[dim]
    if pad >= n:  # too small to reflect: replicate the border instead
        parts = [x.narrow(dim, 0, 1)] * pad + [x] + [x.narrow(dim, n - 1, 1)] * pad
    else:
        parts = ([x.narrow(dim, i, 1) for i in range(pad, 0, -1)] + [x]
                 + [x.narrow(dim, n - 1 - i, 1) for i in range(1, pad + 1)])
    return torch.cat(parts, dim)


def _blur_1d(x: Tensor, taps: list[float], dim: int) -> Tensor:
    """Symmetric 1-D filter along ``dim`` as a sum of shifted slices (faster than depthwise conv)."""
    k = len(taps)
    pad = k // 2
    p = _reflect_pad(x, pad, dim)
    n = x.shape[dim]
    out = p.narrow(dim, pad, n) * taps[pad]
    for i in range(pad):  # pair the symmetric taps: one multiply per pair
        out.add_(p.narrow(dim, i, n) + p.narrow(dim, k - 1 - i, n), alpha=taps[i])
    return out


def _blur(x: Tensor, ksize: int) -> Tensor:
    """Separable Gaussian blur (OpenCV sigma-0 kernel) with reflect-101 borders."""
    if ksize == 1:
        return x
    if ksize in (3, 5):
        # OpenCV's 3- and 5-tap kernels are binomial: (ksize - 1) pairwise sums per axis, then one
        # scale, is the fewest passes over memory (this step is bandwidth-bound).
        pad = ksize // 2
        if min(x.shape[-2:]) > pad:
            p = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        else:
            p = _reflect_pad(_reflect_pad(x, pad, -1), pad, -2)
        for _ in range(ksize - 1):
            p = p[..., 1:] + p[..., :-1]
        for _ in range(ksize - 1):
            p = p[..., 1:, :] + p[..., :-1, :]
        return p.mul_(1.0 / 4 ** (ksize - 1))
    taps = gaussian_kernel1d(ksize)
    return _blur_1d(_blur_1d(x, taps, -1), taps, -2)


def _dilate(mask: Tensor, ksize: int) -> Tensor:
    """``cv2.dilate`` with a ksize×ksize ones kernel (default anchor and border) on a bool map."""
    if ksize == 1:
        return mask
    before, after = ksize // 2, (ksize - 1) // 2  # OpenCV anchors even kernels at ksize // 2
    m = F.pad(mask.to(torch.uint8), (before, after, before, after))
    h, w = mask.shape[-2:]
    rows = m[..., :, 0:w].clone()
    for i in range(1, ksize):
        rows |= m[..., :, i:i + w]
    out = rows[..., 0:h, :].clone()
    for i in range(1, ksize):
        out |= rows[..., i:i + h, :]
    return out.bool()


def edge_smooth(
    x: Tensor,
    low_threshold: float = 100.0,
    high_threshold: float = 200.0,
    dilate: int = 5,
    blur: int = 5,
    return_mask: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Blur a batch of cartoons around their Canny edges (functional form of :class:`EdgeSmooth`).

    Args:
        x: RGB images in [-1, 1].
        low_threshold: Canny low threshold (gray levels, L1 Sobel magnitude).
        high_threshold: Canny high threshold.
        dilate: side of the square dilation kernel applied to the edge map.
        blur: Gaussian kernel size (OpenCV sigma-0 kernel).
        return_mask: also return the dilated edge mask that selects the blurred pixels.

    Shape:
        - x: (N, 3, H, W)
        - output: (N, 3, H, W), same dtype and device; mask (N, 1, H, W) bool
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"edge_smooth expects N×3×H×W RGB images, got shape {tuple(x.shape)}")
    # NCHW-contiguous float32: the padding and shifted-slice passes are several times slower on
    # channels_last strides, and worth one copy.
    xf = x.float().contiguous()
    with torch.no_grad():
        edges = canny(rgb_to_gray_u8(to_u8(xf)), low_threshold, high_threshold)
        mask = _dilate(edges, dilate)
    # lerp with a 0/1 weight selects exactly and is several times faster than a broadcast where()
    out = torch.lerp(xf, _blur(xf, blur), mask.to(xf.dtype)).to(x.dtype)
    return (out, mask) if return_mask else out


class EdgeSmooth(nn.Module):
    """Edge-smoothed cartoons: OpenCV Canny → dilate → Gaussian blur on the dilated edges, in torch.

    Reproduces the CartoonGAN edge-promoting recipe (``cv2.Canny(gray, 100, 200)``, 5×5 dilation, 5×5
    sigma-0 Gaussian, reflect padding) with OpenCV's integer semantics, on whole batches and on the
    device of the input. Not differentiable through the edge map (it is a data transform).

    Args:
        low_threshold: Canny low threshold on the L1 Sobel magnitude of the 8-bit gray image.
        high_threshold: Canny high threshold.
        dilate: side of the square dilation kernel (1 disables dilation).
        blur: Gaussian kernel size (odd; OpenCV's sigma-0 kernel).

    Shape:
        - Input: (N, 3, H, W) in [-1, 1]
        - Output: (N, 3, H, W) in [-1, 1]

    Example:
        >>> aug = EdgeSmooth()
        >>> aug(torch.rand(2, 3, 64, 64) * 2 - 1).shape
        torch.Size([2, 3, 64, 64])
    """

    def __init__(
        self,
        low_threshold: float = 100.0,
        high_threshold: float = 200.0,
        dilate: int = 5,
        blur: int = 5,
    ) -> None:
        super().__init__()
        if dilate < 1:
            raise ValueError(f"dilate must be >= 1, got {dilate}")
        gaussian_kernel1d(blur)  # validates the size early
        self.low_threshold = low_threshold
        self.high_threshold = high_threshold
        self.dilate = dilate
        self.blur = blur

    def forward(self, x: Tensor) -> Tensor:
        out = edge_smooth(x, self.low_threshold, self.high_threshold, self.dilate, self.blur)
        assert isinstance(out, Tensor)
        return out

    def extra_repr(self) -> str:
        return (f"low_threshold={self.low_threshold}, high_threshold={self.high_threshold}, "
                f"dilate={self.dilate}, blur={self.blur}")
