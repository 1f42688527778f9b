"""Settings are parsed strictly (a bad value is one line, exit 2, before any work), and images open only
through the allow-list of documented formats: EPS/PostScript and other formats Pillow hands to external
programs are refused by name."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from toonkit.cli.main import main



@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "a.png"
    Image.new("RGB", (32, 32), (200, 100, 50)).save(path)
    return path


BAD_SETTINGS = [
    ("TOONKIT_MAX_IMAGE_PIXELS", "²"),  # str.isdigit() says yes, int() says no: it broke every decode
    ("TOONKIT_MAX_IMAGE_PIXELS", "-5"),
    ("TOONKIT_MAX_IMAGE_PIXELS", "0"),
    ("TOONKIT_MAX_IMAGE_PIXELS", "1e9"),
    ("TOONKIT_MAX_IMAGE_PIXELS", "lots"),
    ("TOONKIT_MAX_RECIPE_BYTES", "1 MiB"),
    ("TOONKIT_MAX_RECIPE_BYTES", "٣"),
    ("TOONKIT_STRICT_PLUGINS", "maybe"),
    ("TOONKIT_DISABLE_PLUGINS", "a b"),
    ("TOONKIT_WEIGHTS_DIR", "/nonexistent/weights"),
]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line(name: str, value: str, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv(name, value)
    rc = main(["list", "generator"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], lines


@pytest.mark.parametrize("value", ["²", "lots", "-1"])
def test_a_bad_pixel_bound_stops_translate_once(value: str, run_dir: Path, photo: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("TOONKIT_MAX_IMAGE_PIXELS", value)
    other = photo.with_name("b.png")
    other.write_bytes(photo.read_bytes())
    rc = main(["translate", str(run_dir), str(photo), str(other), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1, err


def test_good_settings_are_accepted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from toonkit.data.decode import max_image_pixels

    monkeypatch.setenv("TOONKIT_MAX_IMAGE_PIXELS", " 1000 ")
    monkeypatch.setenv("TOONKIT_STRICT_PLUGINS", "off")
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(tmp_path))
    assert max_image_pixels() == 1000
    assert main(["list", "generator"]) == 0


def test_disabling_a_plugin_that_is_not_installed_is_said(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    from toonkit.plugins.manager import reset as reset_plugins

    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "no-such-plugin")
    reset_plugins()
    try:
        assert main(["list", "generator"]) == 0
    finally:
        monkeypatch.delenv("TOONKIT_DISABLE_PLUGINS")
        reset_plugins()
    assert any("no-such-plugin" in r.getMessage() for r in caplog.records)


# -- formats ------------------------------------------------------------------------------------------
EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
       b"newpath 0 0 moveto 10 10 lineto stroke showpage\n%%EOF\n")
DOS_EPS = b"\xc5\xd0\xd3\xc6" + b"\x1e\x00\x00\x00" + len(EPS).to_bytes(4, "little") + b"\x00" * 18 + EPS


@pytest.mark.parametrize(("name", "data"), [("eps.jpg", EPS), ("dos_eps.png", DOS_EPS)])
def test_postscript_never_reaches_pillows_eps_reader(name: str, data: bytes, run_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    from PIL import EpsImagePlugin

    reached: list[str] = []
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda self: reached.append("eps") or 1 / 0)
    path = tmp_path / name
    path.write_bytes(data)
    rc = main(["translate", str(run_dir), str(path), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and not reached, "Pillow's EPS reader (which runs Ghostscript) was reached"
    line = next(line for line in err.splitlines() if name in line)
    assert "EPS" in line or "PostScript" in line, line


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PPM", "TGA", "PCX", "ICO", "SGI"])
def test_formats_outside_the_allow_list_are_refused(fmt: str, run_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / f"{fmt.lower()}_named.png"
    path.write_bytes(_encode(Image.new("RGB", (16, 16), (1, 2, 3)), fmt))
    rc = main(["translate", str(run_dir), str(path), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and "accepted" in err, err


def test_phone_jpegs_with_several_pictures_are_accepted(run_dir: Path, tmp_path: Path) -> None:
    """Many phones write MPO (JPEG with a second picture): Pillow names it MPO, it is still a JPEG."""
    path = tmp_path / "phone.jpg"
    first, second = Image.new("RGB", (32, 24), (200, 0, 0)), Image.new("RGB", (32, 24), (0, 0, 200))
    path.write_bytes(_encode(first, "MPO", save_all=True, append_images=[second]))
    assert Image.open(path).format == "MPO"
    assert main(["translate", str(run_dir), str(path), "-o", str(tmp_path / "out"), "-q"]) == 0
