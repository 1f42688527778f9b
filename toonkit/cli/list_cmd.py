"""``toonkit list [KIND] [PATTERN]``: registered components and their summaries."""
from __future__ import annotations

import argparse
import inspect
import re
import typing
from typing import Any


WIDTH = 100  # characters of summary per line: a terminal line with the name column


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", help="component kind (generator, loss, method, ...)")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern on names, e.g. 'cy*'")
    p.add_argument("--card", action="store_true",
                   help="for pretrained models (kind 'model'): print each model's whole card")
    p.add_argument("--params", action="store_true",
                   help="also show each component's parameters with their types, allowed values and defaults")


def plain(text: str) -> str:
    """Docstring markup as plain text: ``code`` → code, :class:`~a.B` → B, *x* → x.

    Example:
        >>> plain("Total ``(a + b) / 2``, see :func:`~toonkit.losses.gram_matrix` and *this*.")
        'Total (a + b) / 2, see gram_matrix and this.'
    """
    text = re.sub(r":\w+:`~?([^`]+)`", lambda m: m.group(1).rsplit(".", 1)[-1] if m.group(0).count("~")
                  else m.group(1), text)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"\1", text)
    return " ".join(text.split())


def summary_text(summary: str, factory: Any, width: int = WIDTH) -> str:
    """The component's first sentence as plain text, cut at a word boundary (with "…") past ``width``.

    The registry's summary is the docstring's first line, which may stop mid-sentence (mid-parenthesis);
    the sentence is completed from the docstring's first paragraph.

    Example:
        >>> summary_text("Total variation (half of", None)
        'Total variation (half of'
    """
    doc = inspect.getdoc(factory) or "" if factory is not None else ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    text = plain(paragraph if summary and paragraph.startswith(summary.strip()) else summary)
    match = re.search(r"(?<=[.!?])\s(?=[A-Z(])", text)  # end of the first sentence
    if match:
        text = text[:match.start()]
    if len(text) > width:
        text = text[:width].rsplit(" ", 1)[0].rstrip(",;:(") + " …"
    return text


def describe_type(annotation: Any) -> str:
    """A parameter's annotation for people: ``int``, ``float | None``, ``one of 'a', 'b'``.

    Example:
        >>> describe_type(typing.Literal["alex", "vgg"])
        "one of 'alex', 'vgg'"
    """
    if annotation is inspect.Parameter.empty or annotation is Any:
        return ""
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"\btyping\.|\b[\w.]+\.(?=[A-Z]\w*\b)", "", str(annotation)).replace("NoneType", "None")


def run(args: argparse.Namespace) -> int:
    import toonkit
    from toonkit.pretrained import PretrainedModel
    from toonkit.protocols import model_folder

    entries = toonkit.list_components(args.kind, args.pattern)  # an unknown kind: one line, exit 2 (main)
    kind = None
    for e in entries:
        if e.kind != kind:
            kind = e.kind
            print(f"{kind}:")
        print(f"  {e.name:<22} {summary_text(e.summary, e.factory)}  [{e.plugin}]")
        folder = model_folder(e.factory)  # a pretrained model: where its card is
        if folder is not None:
            print(f"      card: {folder / 'README.md'}  (toonkit list model {e.name} --card)")
            if args.card:
                print(PretrainedModel(e.name, folder).card)
        if args.params:
            for p in e.params:
                default = "required" if p.required else repr(p.default)
                kind_text = describe_type(p.annotation)
                print(f"      {p.name}{': ' + kind_text if kind_text else ''} = {default}")
    if not entries:
        print("no components match")
    return 0
