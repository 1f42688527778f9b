"""``toonkit demo`` in a real browser: headless Chromium (Debian's package) driven by Playwright.

The server is the real command, started as a subprocess on a free localhost port with its own TMPDIR and
working directory. The page is used as a person would: upload a photo, wait for the cartoon, download
it, upload a corrupt file, upload again. ``TOONKIT_UPDATE_SCREENSHOT=1`` also writes ``docs/demo.png``;
``TOONKIT_DEMO_TEST_MODEL`` serves another model than the tiny test run (e.g. a trained one for the
screenshot). ``.ci/browser_deps.sh`` installs what this needs.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from toonkit.cli.main import main

pytest.importorskip("gradio", reason="the demo extra is not installed (pip install -e '.[demo]')")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (bash .ci/browser_deps.sh installs it)")
CHROMIUM = os.environ.get("TOONKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("no Chromium executable (apt-get install chromium, or bash .ci/browser_deps.sh; "
                "TOONKIT_CHROMIUM names another)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
STARTUP_S = 600  # importing Gradio and torch on a busy 2-core machine takes minutes
INFER_MS = 300_000
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``toonkit demo MODEL`` in a subprocess, in an empty working directory with its own TMPDIR."""

    def __init__(self, model: str, root: Path) -> None:
        self.cwd, self.tmp, self.log = root / "cwd", root / "tmp", root / "server.log"
        self.cwd.mkdir()
        self.tmp.mkdir()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "TMPDIR": str(self.tmp), "PYTHONPATH": str(REPO)}
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "toonkit", "demo", model, "--port", str(self.port), "--device", "cpu",
                 "--max-file-size", "1mb"],
                cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"toonkit demo exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(1)
        self.stop()
        pytest.fail(f"toonkit demo did not answer within {STARTUP_S} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="module")
def model(tiny_run: Path) -> str:
    return os.environ.get("TOONKIT_DEMO_TEST_MODEL") or str(tiny_run)


@pytest.fixture(scope="module")
def server(model: str, tmp_path_factory: pytest.TempPathFactory):
    srv = Server(model, tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page(server: Server):
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        pg = context.new_page()
        pg.on("request", lambda request: requests.append(request.url))
        pg.goto(server.url, wait_until="networkidle", timeout=STARTUP_S * 1000)
        pg.requests = requests  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _upload(page, path: Path) -> None:
    page.locator("#photo input[type=file]").set_input_files(str(path))


def _status(page, text: str) -> str:
    status = page.locator("#status")
    sync_api.expect(status).to_contain_text(text, timeout=INFER_MS)
    return status.inner_text()


def test_upload_cartoon_download_equals_toonkit_translate(page, model: str, photo: Path, tmp_path: Path) -> None:
    page.locator("#background label", has_text="white").click()
    page.locator("#size label", has_text="256").click()
    _upload(page, photo)
    reference = tmp_path / "reference"
    assert main(["translate", model, str(photo), "-o", str(reference), "--background", "white", "--size", "256",
                 "--device", "cpu", "--max-pixels", "4000000", "-q"]) == 0
    expected = np.asarray(Image.open(reference / f"{photo.stem}.png")).astype(int)
    h, w = expected.shape[:2]
    # the status names the output size: it is the answer to this upload with these settings
    _status(page, f"Cartoonised at {w}×{h}")
    sync_api.expect(page.locator("#cartoon img")).to_be_visible(timeout=INFER_MS)
    with page.expect_download(timeout=INFER_MS) as download:
        page.locator("#download").click()
    assert download.value.suggested_filename == f"{photo.stem}_toon.png"
    saved = tmp_path / "downloaded.png"
    download.value.save_as(saved)
    got = np.asarray(Image.open(saved))
    assert Image.open(saved).format == "PNG" and got.shape == expected.shape
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_corrupt_upload_shows_an_error_and_the_next_upload_works(page, photo: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(photo.read_bytes()[:1500])  # a JPEG cut short
    _upload(page, corrupt)
    message = _status(page, "Error:")
    assert "cannot" in message and "corrupt.jpg" not in message.split("(")[0] and str(tmp_path) not in message
    sync_api.expect(page.locator("#cartoon img")).to_have_count(0)  # the old cartoon is not left standing
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image at all")
    _upload(page, not_an_image)
    _status(page, "cannot read this file as an image")
    _upload(page, photo)
    _status(page, "Cartoonised at")
    sync_api.expect(page.locator("#cartoon img")).to_be_visible(timeout=INFER_MS)


def test_mask_and_other_background_panels(page, photo: Path) -> None:
    page.locator("#show_mask label").click()
    sync_api.expect(page.locator("#mask img")).to_be_visible(timeout=INFER_MS)
    page.locator("#other").get_by_text("Same person, other background").click()
    page.locator("#show_other").click()
    sync_api.expect(page.locator("#other_status")).to_contain_text("The same person on", timeout=INFER_MS)
    sync_api.expect(page.locator("#other_cartoon img")).to_be_visible(timeout=INFER_MS)
    if os.environ.get("TOONKIT_UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=str(REPO / "docs" / "demo.png"), full_page=True)


def test_page_reached_nothing_but_the_local_server(page, server: Server) -> None:
    hosts = {urlparse(url).netloc for url in page.requests if not url.startswith(("data:", "blob:"))}
    assert hosts == {f"127.0.0.1:{server.port}"}


def test_uploads_over_the_size_limit_are_refused(server: Server) -> None:
    import httpx

    big = b"\xff\xd8" + bytes(1_500_000)  # over the server's --max-file-size 1mb
    response = httpx.post(f"{server.url}gradio_api/upload", files={"files": ("big.jpg", big, "image/jpeg")},
                          timeout=60)
    assert response.status_code == 413, response.text[:200]


def test_stopping_the_server_removes_every_upload(page, server: Server) -> None:
    assert server.stop() == 0, server.log.read_text()[-2000:]
    left = sorted(p.relative_to(server.tmp).as_posix() for p in server.tmp.rglob("*"))
    assert left == [], f"left in TMPDIR: {left[:10]}"
    assert list(server.cwd.iterdir()) == []  # nothing written where it was started either
