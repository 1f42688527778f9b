"""Evaluation metrics (registered kind ``"metric"``) and size/speed helpers.

A metric is an object with ``name`` (its registry name), ``higher_is_better`` (direction of all its score
columns; ``None``: a signed shift, best at 0), ``requires`` (the :class:`EvalContext` fields it reads),
``columns()`` (the column names it returns, known before running) and ``metric(ctx) -> dict[str, float]``.
The context holds one method's results on one test set::

    import toonkit
    from toonkit.metrics import EvalContext

    row = {}
    ctx = EvalContext(inputs=photos, outputs=cartoons, masks=masks, references=style_images,
                      translate=method_fn, device="cuda")
    for name in ("style_distance", "lpips", "background_leakage", "color_drift"):
        metric = toonkit.build("metric", name)
        row.update(metric(ctx))

Images are NCHW in [-1, 1] and masks N×1×H×W in [0, 1]. ``outputs`` may be omitted when ``translate``
is given (it is then computed once and shared by the metrics). Metrics run without gradients and in
fp32 (autocast disabled), and load their networks on first call, so building one needs no weights.
Pretrained ImageNet backbones come through :mod:`toonkit.weights` (``$TOONKIT_WEIGHTS_DIR`` with
``vgg16_imagenet_features.safetensors`` / ``alexnet_imagenet_features.safetensors``, else torchvision's
weights API); when neither works the metric raises :class:`WeightsUnavailableError` with one line naming
the file. Downloads run under a short socket timeout, so an offline machine fails in seconds.

======================  ==========================================  ==================================
metric                  columns                                     needs
======================  ==========================================  ==================================
``style_distance``      ``FD-VGG16 KID-VGG16 KID-VGG16_std``        outputs (or translate), references
                        (``FID KID KID_std`` with Inception)
``lpips``               ``LPIPS-alex`` (or ``LPIPS-vgg``)           inputs, outputs; masks optional
``background_leakage``  ``leakage``                                 inputs, masks, translate
``color_drift``         ``dE2000``                                  inputs, outputs; masks optional
``face_redness``        ``da*``                                     inputs, outputs; masks optional
``skin_tone``           ``skin_dL* skin_da* skin_db* skin_dITA``    inputs, outputs; masks optional
======================  ==========================================  ==================================

All are lower-is-better (``skin_tone``'s signed shifts are best near 0; the bench reports them per ITA°
skin-tone group, :mod:`toonkit.metrics.skin`). Size and speed (parameters, FLOPs, images/s, peak memory) are functions
in :mod:`toonkit.metrics.perf`.
"""
from __future__ import annotations

from toonkit.metrics._weights import WeightsUnavailableError
from toonkit.metrics.base import EvalContext, Metric
from toonkit.metrics.color import ColorDrift, FaceRedness, delta_e_ciede2000
from toonkit.metrics.leakage import BackgroundLeakage, composite_backgrounds
from toonkit.metrics.perceptual import LPIPSDistance, build_lpips
from toonkit.metrics.skin import ITA_GROUPS, SkinTone, ita_group
from toonkit.metrics.style import StyleDistance, VGG16PooledFeatures, frechet_and_kid, kid_unbiased
from toonkit.registry import Registry



def register(registry: Registry) -> None:
    """Add every metric to ``registry`` under kind ``"metric"``, named by its ``name`` (which its score
    columns and reports use too)."""
    for metric in (StyleDistance, LPIPSDistance, BackgroundLeakage, ColorDrift, FaceRedness, SkinTone):
        registry.add("metric", metric.name, metric)


__all__ = [
    "BackgroundLeakage",
    "ColorDrift",
    "FaceRedness",
    "ITA_GROUPS",
    "SkinTone",
    "EvalContext",
    "LPIPSDistance",
    "Metric",
    "StyleDistance",
    "VGG16PooledFeatures",
    "WeightsUnavailableError",
    "build_lpips",
    "composite_backgrounds",
    "delta_e_ciede2000",
    "frechet_and_kid",
    "ita_group",
    "kid_unbiased",
    "register",
]
