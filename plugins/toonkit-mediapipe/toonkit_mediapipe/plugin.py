"""The plugin module named by the ``toonkit`` entry point: registers masker ``mediapipe_selfie``."""
from __future__ import annotations

from toonkit.plugins import PluginRegistry, hookimpl


@hookimpl
def toonkit_register(registry: PluginRegistry) -> None:
    import importlib.util

    # LiteRT is imported lazily (it is slow to load); a missing runtime still marks the plugin broken
    # in `toonkit plugins` instead of failing at the first mask.
    if importlib.util.find_spec("ai_edge_litert") is None:
        raise ImportError("toonkit-mediapipe needs the LiteRT runtime: pip install ai-edge-litert")
    from toonkit_mediapipe.masker import MediaPipeSelfie

    registry.add("masker", "mediapipe_selfie", MediaPipeSelfie)
