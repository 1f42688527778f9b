"""The toonkit demo as a Hugging Face Space runs it: ``python app.py`` (Gradio SDK, this file as app_file).

The same page as ``toonkit demo``. The Space installs toonkit with its ``demo`` extra (a requirements.txt
holding ``toonkit[demo]``, or ``.[demo]`` beside this checkout) and sets ``GRADIO_SERVER_NAME`` /
``GRADIO_SERVER_PORT``, which Gradio reads because no host or port is passed here. The models are the
registry's pretrained ones, or those named in ``TOONKIT_DEMO_MODELS`` (comma-separated runs,
checkpoints or model names), or the quick start's run.
"""
from __future__ import annotations

import os

from toonkit.demo.app import serve
from toonkit.demo.core import resolve_models

if __name__ == "__main__":
    given = [m.strip() for m in os.environ.get("TOONKIT_DEMO_MODELS", "").split(",") if m.strip()]
    serve(resolve_models(given), host=None, port=None)
