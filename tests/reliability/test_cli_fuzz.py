"""A hypothesis-driven fuzzer over the whole command line: every command, with options drawn from valid,
odd and hostile values, on a sandbox of hostile files (FIFOs, links out of the sandbox, ``/dev/zero``,
decompression bombs, clips good and truncated, EPS named ``.jpg``, alias bombs, binary cards, …) and with odd settings.

Every case must end with exit code 0, 1 or 2, no traceback, nothing escaping ``main``, no hang
(:data:`CASE_SECONDS`), and no existing file changed outside the outputs (the inputs, and the files the
sandbox's links point to outside it, are hashed before and after).

In CI it runs for about a minute (45 s of cases after the sandbox is made) with a fixed seed. Run it
longer, or with another seed:

    TOONKIT_FUZZ_SECONDS=900 TOONKIT_FUZZ_EXAMPLES=5000 TOONKIT_FUZZ_SEED=7 \\
        TOONKIT_FUZZ_REPORT=fuzz.json python -m pytest tests/reliability/test_cli_fuzz.py

``TOONKIT_FUZZ_REPORT`` writes what was tried (cases per command, exit codes) and found.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import struct
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from toonkit.cli.main import main  # noqa: E402

from .helpers import digest, tiny_run, train_recipe  # noqa: E402

SEED = int(os.environ.get("TOONKIT_FUZZ_SEED", "0"))
SECONDS = float(os.environ.get("TOONKIT_FUZZ_SECONDS", "45"))  # plus the sandbox and the last case: about a minute
EXAMPLES = int(os.environ.get("TOONKIT_FUZZ_EXAMPLES", "400"))
REPORT = os.environ.get("TOONKIT_FUZZ_REPORT")
CASE_SECONDS = 120  # a case still running after this is a hang (a FIFO read, an endless decode)


def _png(width: int, height: int, data: bool = True) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = (b"\x00" + b"\x80" * (3 * width)) * height if data else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _image(fmt: str = "PNG", size: tuple[int, int] = (24, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (180, 90, 40)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hostile files in ``files/``, photo folders, runs and models, and ``victim/`` outside what any command
    is told to write: links point into it, and it must never change."""
    import toonkit

    root = tmp_path_factory.mktemp("fuzz")
    run = tiny_run(root / "run")
    toonkit.load(run, device="cpu").save_pretrained(root / "model")
    victim = root / "victim"
    victim.mkdir()
    (victim / "precious.png").write_bytes(_image())
    (victim / "notes.txt").write_text("keep me")
    files = root / "files"
    files.mkdir()
    for name, data in {
        "good.png": _image(), "good.jpg": _image("JPEG"), "good.webp": _image("WEBP"),
        "eps.jpg": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\nshowpage\n",
        "ppm.png": _image("PPM"), "bomb.png": _png(60000, 60000, data=False), "thin.png": _png(20000, 1),
        "empty.jpg": b"", "text.png": b"not an image\n", "x" * 200 + ".png": _image(),
        "recipe.yaml": yaml.safe_dump(train_recipe(root / "demo", steps=1)),
        "bad.yaml": "method: {type: cartoongan\n", "list.yaml": "- 1\n- 2\n", "deep.yaml": "[" * 5000,
        "tag.yaml": "!!python/object/apply:os.system ['echo pwned']\n",
        "alias.yaml": "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
        "base_out.yaml": yaml.safe_dump({"base": str(victim / "x.yaml"), "method": "cartoongan"}),
        "card.md": "# A model\n\nIt paints.\n", "binary.md": bytes(range(256)) * 4,
        "suite.yaml": "methods: {a: {type: nope}}\n", "weights.pt": b"\x00" * 64,
    }.items():
        (files / name).write_bytes(data.encode() if isinstance(data, str) else data)
    try:  # clips: a good one, a truncated one, an animated GIF (PyAV is a dev dependency; without it, none)
        from tests.translate.test_video import make_clip

        clip = make_clip(files / "clip.mp4", frames=3).read_bytes()
        (files / "truncated.mp4").write_bytes(clip[: len(clip) // 2])
        make_clip(files / "anim.gif", frames=3)
    except ImportError:
        pass
    (files / "novideo.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    os.mkfifo(files / "fifo.png")
    os.mkfifo(files / "fifo.md")
    (files / "loop.jpg").symlink_to("loop.jpg")
    (files / "dangling.png").symlink_to("missing.png")
    (files / "zero.png").symlink_to("/dev/zero")
    (files / "to_victim.png").symlink_to(victim / "precious.png")
    (files / "folder.jpg").mkdir()
    photos = root / "photos"
    (photos / "sub").mkdir(parents=True)
    for i, fmt in enumerate(("PNG", "JPEG")):
        (photos / f"p{i}.{fmt.lower()}").write_bytes(_image(fmt, (32 + 8 * i, 24)))
    (photos / "sub" / "p0.png").write_bytes(_image())
    (photos / "sub" / "bad.png").write_bytes(b"junk")
    (root / "out").mkdir()
    (root / "out" / "link").symlink_to(victim, target_is_directory=True)
    (root / "home").mkdir()
    (root / "work").mkdir()
    return root


def _snapshot(root: Path) -> dict[str, str]:
    """Hashes of the files every case must leave alone: the inputs and what links point to."""
    out = {}
    for folder in ("files", "photos", "victim", "model", "run"):
        for dirpath, _, names in os.walk(root / folder):
            for name in names:
                p = Path(dirpath) / name
                if p.is_file() and not p.is_symlink():
                    out[str(p.relative_to(root))] = digest(p)
    return out


def _choices(root: Path) -> dict[str, Any]:
    f = lambda name: str(root / "files" / name)  # noqa: E731
    files = sorted(p.name for p in (root / "files").iterdir())
    images = st.sampled_from([f(n) for n in files] + [str(root / "photos"), str(root / "photos" / "*.png"),
                                                      str(root / "photos" / "**"), str(root / "nope.png")])
    models = st.sampled_from([str(root / "run"), str(root / "model"), str(root / "run" / "checkpoints"), "handpainted",
                              f("good.png"), f("recipe.yaml"), f("zero.png"), "hf://", "nope", str(root / "photos")])
    outs = st.sampled_from([str(root / "out" / "t"), str(root / "out"), str(root / "out" / "link"), f("good.png"),
                            str(root / "out" / "link" / "deeper"), str(root / "photos"), "", "~/x", f("fifo.png"),
                            f("good.png") + "/x", "/proc/x", str(root / "out" / "m.pt"), str(root / "out" / "m.onnx")])
    ints = st.one_of(st.integers(-3, 5), st.sampled_from([0, 1, 16, 64, 10**6, 2**31, 2**63, -(2**40)]))
    numbers = st.one_of(ints.map(str), st.sampled_from(["nan", "inf", "-inf", "1e308", "0.5", "abc", "", "²", "0x10"]))
    recipes = st.sampled_from([f(n) for n in files if n.endswith(".yaml")] + [f("fifo.png"), f("zero.png"),
                                                                            f("good.png"), str(root / "nope.yaml")])
    overrides = st.lists(st.sampled_from(["train.seed=1", "data.size=big", "nets.generator.base_channels=2**40",
                                          "name=../x", "train.device=cuda:9", "a.b.c=[", "method=nst", "x",
                                          "train.phases.init.steps=1e309", "nets=[1]"]), max_size=2)
    cards = st.sampled_from([f("card.md"), f("binary.md"), f("fifo.md"), "/dev/zero", f("zero.png"), "/nonexistent"])
    return dict(images=images, models=models, outs=outs, ints=ints, numbers=numbers, recipes=recipes,
                overrides=overrides, cards=cards)


def _options(data: st.DataObject, table: list[tuple[str, Any]]) -> list[str]:
    """A random subset of ``table``'s options, each with a drawn value (None: a flag)."""
    args: list[str] = []
    for flag, values in data.draw(st.lists(st.sampled_from(table), max_size=4, unique_by=lambda t: t[0])):
        args += [flag] if values is None else [flag, *[str(v) for v in data.draw(values)]]
    return args


def _command(data: st.DataObject, c: dict[str, Any]) -> list[str]:
    one = lambda s: s.map(lambda v: [v])  # noqa: E731
    command = data.draw(st.sampled_from(["translate", "translate", "translate", "export", "export", "run", "recipe",
                                         "list", "plugins", "data", "demo", "bench"]))
    if command == "translate":
        inputs = data.draw(st.lists(c["images"], min_size=1, max_size=3))
        return ["translate", data.draw(c["models"]), *inputs, "-o", data.draw(c["outs"]), "-q", *_options(data, [
            ("--format", one(st.sampled_from(["png", "jpg", "webp", "gif"]))), ("--quality", one(c["ints"])),
            ("--size", one(st.sampled_from(["original", "16", "0", "-5", "abc", "100000", "1e9"]))),
            ("--max-pixels", one(st.sampled_from([1, 100, 10_000, 0, -1]))), ("--batch", one(c["ints"])),
            ("--background", one(st.sampled_from(["keep", "white", "blur", "original", "transparent", "x"]))),
            ("--masker", one(st.sampled_from([str(Path(c["_root"]) / "run"), "unet", "nope",
                                              str(Path(c["_root"]) / "files" / "weights.pt")]))),
            ("--device", one(st.sampled_from(["cpu", "cuda:7", "tpu", "auto"]))),
            ("--amp", one(st.sampled_from(["off", "bf16", "fp8"]))), ("--overwrite", None), ("--no-ema", None),
            ("--method", one(st.just("nst"))), ("--style", one(c["images"])), ("--steps", one(st.sampled_from([1, 0, -1]))),
            ("--vgg-weights", one(st.sampled_from(["random", "imagenet", "/dev/zero"]))),
            ("--faces", one(st.sampled_from(["auto", "off", "crop", "x"]))), ("--face-size", one(c["ints"])),
            ("--colors", one(st.sampled_from(["keep", "style", "x"]))),
        ])]
    if command == "export":
        return ["export", data.draw(c["models"]), *_options(data, [
            ("-o", one(c["outs"])), ("--format", one(st.sampled_from(["onnx", "torchscript", "pretrained", "x"]))),
            ("--tolerance", one(c["numbers"])), ("--opset", one(c["ints"])), ("--card", one(c["cards"])),
            ("--input-size", st.tuples(c["ints"], c["ints"]).map(list)), ("--overwrite", None), ("--dynamic", None),
            ("--with-masker", None), ("--background", one(st.sampled_from(["keep", "white"]))),
            ("--exporter", one(st.sampled_from(["torchscript", "dynamo", "auto"]))),
        ])]
    if command == "run":
        return ["run", data.draw(c["recipes"]), *data.draw(c["overrides"]), "-q", *_options(data, [
            ("--out", one(c["outs"])), ("--resume", None), ("--overwrite", None)])]
    if command == "recipe":
        return ["recipe", data.draw(st.sampled_from(["show", "check"])), data.draw(c["recipes"]),
                *data.draw(c["overrides"])]
    if command == "list":
        return ["list", *data.draw(st.lists(st.sampled_from(["generator", "model", "masker", "nope", "*", "c*", "["]),
                                            max_size=2)), *_options(data, [("--params", None), ("--card", None)])]
    if command == "plugins":
        return ["plugins", *_options(data, [("--json", None)])]
    if command == "data":
        if data.draw(st.booleans()):  # counts and sizes drawn around the bounds, never a long valid set
            return ["data", "demo", data.draw(c["outs"]), "--n", str(data.draw(st.sampled_from([0, -1, 1, 100_001]))),
                    "--size", str(data.draw(st.sampled_from([16, 15, 4097, 10**6])))]
        return ["data", "masks", data.draw(c["images"]), "-o", data.draw(c["outs"]), *_options(data, [
            ("--teacher", one(st.sampled_from(["unet", "nope", "smp"]))), ("--threshold", one(c["numbers"])),
            ("--overwrite", None), ("--device", one(st.just("cpu")))])]
    if command == "demo":  # always one invalid option: a valid one would serve forever
        bad = data.draw(st.sampled_from([("--port", "99999"), ("--port", "0"), ("--max-pixels", "0"),
                                         ("--max-file-size", "lots"), ("--max-file-size", "1.5mb")]))
        return ["demo", *data.draw(st.lists(c["models"], max_size=1)), *bad]
    return ["bench", data.draw(c["recipes"] | st.just(str(Path(c["_root"]) / "files" / "suite.yaml"))),
            *_options(data, [("--methods", one(st.sampled_from(["a", "", ","]))), ("-o", one(c["outs"]))])]


# odd settings in one case of four: most cases test the commands under the defaults
SETTINGS = st.one_of(st.just({}), st.just({}), st.just({}), st.dictionaries(
    st.sampled_from(["TOONKIT_MAX_IMAGE_PIXELS", "TOONKIT_MAX_RECIPE_BYTES", "TOONKIT_STRICT_PLUGINS",
                     "TOONKIT_MAX_PARAMETERS"]),
    st.sampled_from(["", "0", "1", "100", "²", "-1", "yes", "maybe", "10000000000"]), min_size=1, max_size=1))


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Hang


@contextlib.contextmanager
def _case(root: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """One case: in the sandbox's work folder, HOME inside the sandbox, the drawn settings, an alarm."""
    saved_env = {k: os.environ.get(k) for k in [*env, "HOME"]}
    cwd = os.getcwd()
    os.environ.update({**env, "HOME": str(root / "home")})
    os.chdir(root / "work")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_fuzz_the_command_line(sandbox: Path) -> None:
    from toonkit.plugins.manager import reset

    choices = {**_choices(sandbox), "_root": str(sandbox)}
    before = _snapshot(sandbox)
    tried: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    findings: list[dict[str, Any]] = []
    start = time.monotonic()

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        argv = _command(data, choices)
        env = data.draw(SETTINGS)
        if time.monotonic() - start > SECONDS:  # drawn all the same: Hypothesis expects the same draws
            return
        tried[argv[0]] += 1
        err = io.StringIO()
        problem = None
        with _case(sandbox, env), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = main(argv)
            except SystemExit as exc:  # argparse: usage errors are 2, --help 0
                rc = exc.code if isinstance(exc.code, int) else 2
            except _Hang:
                rc, problem = None, f"still running after {CASE_SECONDS} s"
            except BaseException as exc:  # noqa: BLE001 - anything escaping main is a finding
                rc, problem = None, f"{type(exc).__name__} escaped main: {exc}"
            finally:
                if "TOONKIT_STRICT_PLUGINS" in env:
                    reset()  # the registry was loaded under this setting
        codes[f"{argv[0]}:{rc}"] += 1
        text = err.getvalue()
        if problem is None and rc not in (0, 1, 2):
            problem = f"exit code {rc}"
        if problem is None and "Traceback" in text:
            problem = "traceback: " + text[text.index("Traceback"):][-300:]
        after = _snapshot(sandbox)
        changed = sorted(k for k in before if after.get(k) != before[k])
        if problem is None and changed:
            problem = f"changed or removed: {', '.join(changed[:5])}"
        if problem is not None:
            findings.append({"argv": argv, "env": env, "problem": problem, "stderr": text[-500:]})
            before.update(after)  # report each damage once

    one()
    summary = {"seed": SEED, "seconds": round(time.monotonic() - start, 1), "cases": sum(tried.values()),
               "by_command": dict(tried), "exit_codes": dict(sorted(codes.items())), "findings": findings}
    if REPORT:
        Path(REPORT).write_text(json.dumps(summary, indent=1) + "\n")
    assert sum(tried.values()) >= 10, summary
    assert not findings, json.dumps(findings[:5], indent=1)
