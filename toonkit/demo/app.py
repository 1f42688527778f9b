"""The demo page: a Gradio app around :mod:`toonkit.demo.core`, served by ``toonkit demo`` and ``app.py``.

Upload (or drop, paste, or take with the webcam) a photo; pick the model, the background mode and the
output size; see the photo and the cartoon side by side and download the cartoon as PNG. Optional panels
show the masker's person mask, and the same person re-composited on a colour of your choice with its
cartoon, which makes background leakage visible.

Serving rules: one inference at a time for the whole server (every inference event shares one Gradio
concurrency slot; the CPU is the bottleneck and torch already uses every core), so a request waits for
at most the inferences queued before it and the page stays responsive meanwhile (events run in worker
threads). Uploads above ``max_file_size`` are refused by Gradio; everything uploaded or produced lives in
a temporary directory removed on exit; no share link, no analytics, no fonts or scripts from a CDN.

Example:
    >>> serve(["runs/quickstart"], host="127.0.0.1", port=7860)  # doctest: +SKIP
"""
from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toonkit.demo.core import (
    DEMO_MAX_PIXELS,
    SIZE_CHOICES,
    DemoError,
    ModelPool,
    cartoonise,
    display_name,
    other_background,
    parse_colour,
    portraits,
    parse_size,
    read_photo,
)
from toonkit.translate.background import BACKGROUNDS
from toonkit.translate.colors import COLORS, DEFAULT_COLORS
from toonkit.translate.faces import DEFAULT_FACES, FACE_MODES

log = logging.getLogger("toonkit.demo")

#: uploads larger than this are refused by the server before they reach the model
MAX_FILE_SIZE = "20mb"
DESCRIPTION = ("Cartoonise a selfie with **toonkit**. Upload, drop, paste or take a photo; the cartoon "
               "updates when you change a setting. Everything runs on this machine.")


def _photo_input(gr: Any) -> Any:
    """``gr.Image`` whose upload reaches the function as a path, undecoded.

    Gradio's own Image preprocessing opens the file with PIL before the function runs, so a non-image
    would fail inside Gradio with a generic error; here toonkit's decoder reads it and says why. The
    instance's ``preprocess`` is replaced rather than subclassing: Gradio writes a ``.pyi`` stub beside
    the module of every Component subclass, which must not happen inside an installed package.
    """
    photo = gr.Image(label="Photo", type="filepath", sources=["upload", "webcam", "clipboard"],
                     elem_id="photo", height=360)
    gradio_preprocess = photo.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is not None and getattr(payload, "path", None):
            return str(payload.path)
        return gradio_preprocess(payload)  # e.g. a data: URL

    photo.preprocess = preprocess
    return photo


def build_demo(pool: ModelPool, models: Sequence[str], out_dir: str | Path) -> Any:
    """The page as a ``gr.Blocks``; call ``.queue().launch()`` on it (or use :func:`serve`).

    Args:
        pool: loads each model once (the first of ``models`` should already be loaded).
        models: the model choices, the default first.
        out_dir: where the PNG downloads are written (inside the server's temporary directory).
    """
    import gradio as gr

    out_dir = Path(out_dir)

    def run(path: str | None, model: str, background: str, size: str, show_mask: bool,
            colors: str = DEFAULT_COLORS, faces: str = DEFAULT_FACES) -> tuple:
        no_mask = gr.update(value=None, visible=bool(show_mask))
        no_faces = gr.update(value=None, visible=faces == "crop")
        if not path:
            return None, None, no_mask, "", no_faces
        try:
            start = time.perf_counter()
            toon = pool.get(model)
            photo = read_photo(path, budget=toon.max_pixels)
            result = cartoonise(toon, photo, background, parse_size(size), with_mask=show_mask, colors=colors,
                                faces="off" if faces == "crop" else faces)
            cut = portraits(toon, photo, background=background, colors=colors) if faces == "crop" else None
            png = _write_png(result.tensor, out_dir, Path(path).stem)
        except DemoError as exc:
            return None, None, no_mask, f"**Error:** {exc}", no_faces
        except Exception as exc:  # noqa: BLE001 - a bug must not take the page down: say it, log it
            log.exception("translation failed")
            return None, None, no_mask, f"**Error:** translation failed: {type(exc).__name__}: {exc}", no_faces
        h, w = result.cartoon.shape[:2]
        status = f"Cartoonised at {w}×{h} with {display_name(model)} in {time.perf_counter() - start:.1f} s."
        if cut is not None:
            status += f" {len(cut)} face{'s' * (len(cut) != 1)} found."
        return (result.cartoon, png, gr.update(value=result.mask, visible=bool(show_mask)), status,
                gr.update(value=cut, visible=faces == "crop"))

    def run_other(path: str | None, model: str, background: str, size: str, colour: str,
                  colors: str = DEFAULT_COLORS) -> tuple:
        if not path:
            return None, None, "Upload a photo first."
        try:
            toon = pool.get(model)
            photo, result = other_background(toon, read_photo(path, budget=toon.max_pixels), parse_colour(colour),
                                             background, parse_size(size), colors)
        except DemoError as exc:
            return None, None, f"**Error:** {exc}"
        except Exception as exc:  # noqa: BLE001 - as in run()
            log.exception("re-compositing failed")
            return None, None, f"**Error:** {type(exc).__name__}: {exc}"
        return photo, result.cartoon, f"The same person on {colour}: compare the two cartoons."

    with gr.Blocks(title="toonkit demo", analytics_enabled=False) as demo:
        gr.Markdown(f"# toonkit: cartoonise a selfie\n{DESCRIPTION}")
        with gr.Row():
            model = gr.Dropdown([(display_name(m), m) for m in models], value=models[0], label="Model", elem_id="model",
                                allow_custom_value=False)
            background = gr.Radio(list(BACKGROUNDS), value="keep", label="Background", elem_id="background")
            colors = gr.Radio(list(COLORS), value=DEFAULT_COLORS, label="Colours",
                              info="keep: the person keeps the photo's colours (skin tone); style: the model's",
                              elem_id="colors")
            size = gr.Radio(list(SIZE_CHOICES), value=SIZE_CHOICES[0], label="Output size (short side)",
                            info="auto: the photo's size, painted at the model's working size; "
                                 "original: painted at full resolution (slower)", elem_id="size")
            show_mask = gr.Checkbox(False, label="Show the person mask", elem_id="show_mask")
            faces = gr.Radio(list(FACE_MODES), value=DEFAULT_FACES, label="Faces", elem_id="faces",
                             info="auto: paint small faces (group photos) at the model's scale; "
                                  "crop: one portrait per face")
        with gr.Row():
            photo = _photo_input(gr)
            cartoon = gr.Image(label="Cartoon", type="numpy", format="png", interactive=False,
                               elem_id="cartoon", height=360, buttons=["download", "fullscreen"])
            mask = gr.Image(label="Person mask", type="numpy", format="png", interactive=False,
                            elem_id="mask", height=360, visible=False, buttons=["download", "fullscreen"])
        face_gallery = gr.Gallery(label="Portraits, one per face", elem_id="portraits", visible=False,
                                  columns=4, height=280)
        with gr.Row():
            download = gr.DownloadButton("Download PNG", elem_id="download")
            status = gr.Markdown("", elem_id="status")
        with gr.Accordion("Same person, other background", open=False, elem_id="other"):
            gr.Markdown("The masker puts the person on a flat colour and the model cartoonises that "
                        "photo with the same settings. If the background leaks into the person, the two "
                        "cartoons' faces differ.")
            with gr.Row():
                colour = gr.ColorPicker("#2e7d32", label="Background colour", elem_id="colour")
                show_other = gr.Button("Show", elem_id="show_other")
            with gr.Row():
                other_photo = gr.Image(label="Photo on the new background", type="numpy", format="png",
                                       interactive=False, elem_id="other_photo", height=300,
                                       buttons=["download", "fullscreen"])
                other_cartoon = gr.Image(label="Its cartoon", type="numpy", format="png", interactive=False,
                                         elem_id="other_cartoon", height=300,
                                         buttons=["download", "fullscreen"])
            other_status = gr.Markdown("", elem_id="other_status")

        inputs = [photo, model, background, size, show_mask, colors, faces]
        outputs = [cartoon, download, mask, status, face_gallery]
        # one slot for every inference: a second request waits for the running one, never beside it
        slot: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "inference"}
        for trigger in (photo.change, model.change, background.change, size.change, show_mask.change,
                        colors.change, faces.change):
            trigger(run, inputs, outputs, **slot)
        other_inputs = [photo, model, background, size, colour, colors]
        show_other.click(run_other, other_inputs, [other_photo, other_cartoon, other_status], **slot)
        colour.change(run_other, other_inputs, [other_photo, other_cartoon, other_status], **slot)
    return demo


def _write_png(tensor: Any, out_dir: Path, stem: str) -> str:
    """Write the cartoon with ``toonkit translate``'s writer, in a fresh folder (concurrent users)."""
    from toonkit.translate.io import save_image

    path = out_dir / uuid.uuid4().hex / f"{stem}_toon.png"
    save_image(tensor, path, "png")
    return str(path)


CLOSE_SECONDS = 10.0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(models: Sequence[str], host: str | None = "127.0.0.1", port: int | None = None, *,
          device: str = "auto", amp: str = "off", max_pixels: int = DEMO_MAX_PIXELS,
          max_file_size: str | int = MAX_FILE_SIZE, on_ready: Any = None) -> None:
    """Load the default model, then serve the page until interrupted (Ctrl-C).

    Args:
        models: model choices for :func:`toonkit.load` (runs, checkpoints, pretrained names), default
            first; :func:`toonkit.demo.core.resolve_models` gives them.
        host: interface to bind; ``None`` lets Gradio decide (``GRADIO_SERVER_NAME``, as on a Space).
        port: port; ``None``: ``GRADIO_SERVER_PORT`` or the first free one from 7860.
        device, amp, max_pixels: passed to :func:`toonkit.load` for every model.
        max_file_size: the largest upload accepted (``"20mb"`` or bytes).
        on_ready: called with the page's URL once the server listens.

    Raises:
        DemoError: the default model cannot be loaded.
    """
    import toonkit

    pool = ModelPool(lambda name: toonkit.load(name, device=device, amp=amp, max_pixels=max_pixels))
    pool.get(models[0])  # a bad default model fails here, before anything is served
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) stops the server like Ctrl-C does, so the temporary folder is removed
        signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="toonkit-demo-") as tmp:
        # Gradio reads these when imported and when building the app: uploads go to our temporary
        # folder (removed on exit, whatever happens), and it never phones home
        os.environ["GRADIO_TEMP_DIR"] = str(Path(tmp) / "gradio")
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up checks, per request
        demo = build_demo(pool, models, Path(tmp) / "out")
        demo.queue(max_size=32)
        _, url, _ = demo.launch(server_name=host, server_port=port, share=False, max_file_size=max_file_size,
                                ssr_mode=False, prevent_thread_lock=True, quiet=True, inbrowser=False,
                                footer_links=[], mcp_server=False, pwa=False)
        if on_ready is not None:
            on_ready(url)
        try:
            demo.block_thread()
        finally:
            # Gradio's close waits for open connections (a browser tab left open): give it a few seconds,
            # then go on, so that Ctrl-C or SIGTERM always stops the server and removes the uploads
            closer = threading.Thread(target=demo.close, daemon=True)
            closer.start()
            closer.join(CLOSE_SECONDS)
