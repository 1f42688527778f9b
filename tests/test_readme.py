"""The README's shell commands work as written.

Every line of every fenced ```bash block in README.md is a command. Each one runs from a temporary
directory (the user's checkout, as far as the commands can tell: a copy of ``recipes/``, plus the files
the examples name, made here: ``me.jpg``, ``photos/``, ``style.jpg``) and must exit 0. Two kinds of
command are not run, see CONTRIBUTING.md:

- a line whose comment says ``not run by tests: <reason>`` (network, GPUs, the user's own data, hours of
  training, the test suite itself);
- ``pip install ...``, alone or as the first step of an ``&&`` chain: the tests run inside the installed
  environment (CI runs the README's install in a clean virtual environment first).

The quick start's own line (its real training, a few minutes, and its translations) runs in a workspace
of its own and is marked ``slow`` (``.ci/run`` runs the slow tests after the others). Every other command
that uses ``runs/quickstart`` runs against a short training of the same recipe (a few steps of each phase,
the same networks), made once per session: what they check is that the commands work on a quick-start
run, not how well it paints.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
TAG = "not run by tests:"
QUICKSTART = "toonkit run recipes/quickstart.yaml"
QUICKSTART_RUN = "runs/quickstart"
PIP_REASON = "pip install: the tests run in the installed environment (CI runs the install in a clean venv)"


@dataclass(frozen=True)
class Command:
    line: int  # 1-based line number in README.md
    text: str  # as written, comment included
    run: str  # what is executed ("" when nothing is)
    skip: str  # why it is not run ("" when it is)


def _strip_comment(text: str) -> str:
    """The command without its trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = ""
    for i, ch in enumerate(text):
        if ch in "'\"" and (not quote or quote == ch):
            quote = "" if quote else ch
        elif ch == "#" and not quote and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip()
    return text.rstrip()


def readme_commands(text: str | None = None) -> list[Command]:
    """Every command of the ```bash blocks of the README, with what runs and why not."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    out: list[Command] = []
    in_bash = False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_bash = not in_bash and stripped == "```bash"
            continue
        if not in_bash or not stripped or stripped.startswith("#"):
            continue
        command = _strip_comment(stripped)
        comment = stripped[len(command):]
        if TAG in comment:
            reason = comment.split(TAG, 1)[1].strip()
            out.append(Command(number, stripped, "", reason or "(no reason given)"))
            continue
        steps = [s.strip() for s in command.split("&&")]
        while steps and steps[0].startswith("pip install"):
            steps.pop(0)
        out.append(Command(number, stripped, " && ".join(steps), "" if steps else PIP_REASON))
    return out


COMMANDS = readme_commands()


def test_readme_has_commands_and_every_skip_says_why() -> None:
    assert any(c.run for c in COMMANDS)
    assert any(QUICKSTART in c.run for c in COMMANDS), "the quick start's training is no longer run"
    for c in COMMANDS:
        assert c.skip != "(no reason given)", f"README.md:{c.line}: '{TAG}' needs a reason"
    assert TAG in (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8"), "the tag is documented there"


def test_parser_reads_tags_chains_and_quoted_hashes() -> None:
    text = "\n".join(["```bash", 'pip install -e ".[dev]" && toonkit list  # lists', "python -m pytest -q   # "
                      f"{TAG} it is the suite", "pip install x", "echo '#1' # c", "```", "```", "toonkit no",
                      "```"])
    got = [(c.run, c.skip) for c in readme_commands(text)]
    assert got == [("toonkit list", ""), ("", "it is the suite"), ("", PIP_REASON), ("echo '#1'", "")]


# -- running them ---------------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    # `toonkit` and `python` of this environment, even when it is not activated
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _execute(command: Command, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command.run], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)


def _checkout(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A fresh checkout as far as the commands can tell: a copy of ``recipes/``, nothing trained."""
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(REPO / "recipes", root / "recipes")
    return root


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the checkout a user types the commands in, with the files the examples name, and
    ``runs/quickstart`` trained for a few steps of each phase of the quick start's recipe."""
    from PIL import Image

    from toonkit.data import make_demo

    root = _checkout(tmp_path_factory, "readme")
    short = ["train.phases.init.steps=2", "train.phases.masker.steps=2", "train.phases.adversarial.steps=2",
             "data.demo_n=8"]
    trained = subprocess.run(["toonkit", "run", "recipes/quickstart.yaml", "--out", QUICKSTART_RUN, *short],
                             cwd=root, env=_env(), capture_output=True, text=True, timeout=900)
    assert trained.returncode == 0, f"a short quick-start run failed:\n{trained.stderr[-3000:]}"
    demo = make_demo(tmp_path_factory.mktemp("readme_demo"), n=6, size=64, seed=0, n_test=3)
    tests = sorted(demo["test_photos"].iterdir())
    # a phone-like photo: JPEG, not square, larger than the quick start's training size
    Image.open(tests[0]).convert("RGB").resize((160, 200)).save(root / "me.jpg", quality=92)
    (root / "photos").mkdir()
    for i, path in enumerate(tests):
        Image.open(path).convert("RGB").save(root / "photos" / f"photo_{i}.jpg", quality=92)
    Image.open(sorted(demo["cartoons"].iterdir())[0]).convert("RGB").save(root / "style.jpg", quality=92)
    _write_clip(root / "clip.mp4", tests[0])
    return root


def _write_clip(path: Path, photo: Path, frames: int = 4) -> None:
    """A short clip for the video examples: the photo, a few frames (skipped without PyAV)."""
    import importlib.util

    if importlib.util.find_spec("av") is None:
        return
    import numpy as np
    from PIL import Image

    from toonkit.translate.video import check_av, video_frame

    av = check_av()
    image = np.asarray(Image.open(photo).convert("RGB").resize((64, 48)))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(frames):
            out.mux(stream.encode(video_frame(image)))
        out.mux(stream.encode(None))


def _report(command: Command, result: subprocess.CompletedProcess) -> str:
    return (f"README.md:{command.line}: `{command.run}` exited {result.returncode}\n"
            f"{result.stderr[-3000:]}")


def _params() -> list:
    params = []
    for c in COMMANDS:
        marks = [pytest.mark.slow] if QUICKSTART in c.run else []
        params.append(pytest.param(c, id=f"line{c.line}", marks=marks))
    return params


@pytest.mark.parametrize("command", _params())
def test_readme_command_exits_0(command: Command, request: pytest.FixtureRequest) -> None:
    if command.skip:
        pytest.skip(f"README.md:{command.line}: {command.skip}")
    if QUICKSTART in command.run:  # the real quick start, in a checkout where nothing is trained yet
        root = _checkout(request.getfixturevalue("tmp_path_factory"), "quickstart")
        result = _execute(command, root, timeout=3600)
        assert result.returncode == 0, _report(command, result)
        assert any((root / QUICKSTART_RUN / "cartoons").iterdir())
        return
    result = _execute(command, request.getfixturevalue("workspace"), timeout=900)
    assert result.returncode == 0, _report(command, result)
