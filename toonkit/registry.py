"""The component registry: every generator, loss, method, ... is an entry here.

Plugins (the built-in one included) add entries through the ``toonkit_register`` hook, each through its
own :class:`PluginRegistry` view; users build them with :func:`toonkit.build` and browse them with
:func:`toonkit.list_components`. A component that renames a parameter keeps the old name working for one
release with :func:`renamed_params`.
"""
from __future__ import annotations

import builtins
import difflib
import fnmatch
import inspect
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, TypeVar

from toonkit.errors import ToonkitError

F = TypeVar("F", bound=Callable[..., Any])

KINDS: tuple[str, ...] = (
    "generator",
    "discriminator",
    "masker",
    "feature",
    "loss",
    "augmenter",
    "method",
    "metric",
    "filter",  # non-learned image filters: the bench's zero points (toonkit.filters)
    "model",  # pretrained models: folders that toonkit.load() reads (toonkit.pretrained)
    "face_detector",  # face-aware translation (toonkit.nets.face_detectors)
)

_EMPTY = inspect.Parameter.empty


class RegistryError(ToonkitError):
    """Base class of registry errors."""


class UnknownComponentError(RegistryError, KeyError):
    """Raised for a name (or kind) that is not registered; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class DuplicateComponentError(RegistryError):
    """Raised when two plugins register the same kind/name without ``override=True``."""


@dataclass(frozen=True)
class Param:
    """One declared parameter of a component: its name, annotation and default (``Param.REQUIRED``)."""

    name: str
    annotation: Any = Any
    default: Any = _EMPTY

    REQUIRED = _EMPTY

    @property
    def required(self) -> bool:
        return self.default is _EMPTY


@dataclass(frozen=True)
class Entry:
    """A registered component.

    Attributes:
        kind: one of :data:`KINDS` (or a kind a plugin added).
        name: the name recipes and :func:`toonkit.build` use.
        factory: a class or function called with the parameters.
        summary: one line shown by ``toonkit list``.
        params: declared parameters, in order, from the factory's signature.
        plugin: the name of the plugin that registered it.
    """

    kind: str
    name: str
    factory: Callable[..., Any]
    summary: str = ""
    params: tuple[Param, ...] = ()
    plugin: str = "unknown"
    accepts_extra: bool = False

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def renamed(self) -> dict[str, str]:
        """Deprecated parameter names of the factory and their new names (see :func:`renamed_params`)."""
        return renamed_of(self.factory)

    def build(self, **params: Any) -> Any:
        """Call the factory; deprecated parameter names are mapped to the new ones with a warning."""
        return self.factory(**rename_params(self, params, warn=True))


def renamed_params(**old_to_new: str) -> Callable[[F], F]:
    """Mark parameters of a component factory as renamed: the old names keep working for one release.

    The mapping is only recorded on the factory; :meth:`Entry.build` (so :func:`toonkit.build`, training
    and loading a checkpoint whose embedded recipe uses the old names) maps old to new with a
    :class:`DeprecationWarning`, and recipe validation writes the new name in the resolved recipe.
    The factory's own signature lists only the new names.

    Args:
        **old_to_new: old parameter name -> new parameter name.

    Example:
        >>> @renamed_params(ndf="base_channels")
        ... def disc(base_channels: int = 64):
        ...     return base_channels
        >>> reg = Registry()
        >>> _ = reg.add("discriminator", "d", disc)
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     reg.build("discriminator", "d", ndf=8)
        8
    """

    def mark(factory: F) -> F:
        # merged with a parent's mapping, so a subclass can rename more without losing the old ones
        factory.__toonkit_renamed__ = {**renamed_of(factory), **old_to_new}  # type: ignore[attr-defined]
        return factory

    return mark


def renamed_of(factory: Callable[..., Any]) -> dict[str, str]:
    """The old -> new parameter names recorded on ``factory`` by :func:`renamed_params` (or ``{}``)."""
    return dict(getattr(factory, "__toonkit_renamed__", None) or {})


def rename_params(entry: Entry, params: Mapping[str, Any], *, warn: bool = False, where: str = ""
                  ) -> dict[str, Any]:
    """``params`` with deprecated names of ``entry`` replaced by their new names.

    An old name given together with its new name is left as is, so the factory (or recipe validation)
    reports the conflict instead of one value silently winning.

    Args:
        entry: the component the parameters are for.
        params: parameter name -> value, possibly with old names.
        warn: emit a :class:`DeprecationWarning` per old name.
        where: what the warning names before the component (a recipe's key path).
    """
    renamed = entry.renamed
    if not renamed or not any(k in renamed for k in params):
        return dict(params)
    out: dict[str, Any] = {}
    for key, value in params.items():
        new = renamed.get(key)
        if new is None or new in params:
            out[key] = value
            continue
        if warn:
            warnings.warn(f"{where + ': ' if where else ''}{entry.kind} '{entry.name}': parameter "
                          f"'{key}' is deprecated, use '{new}' "
                          "(the old name will be removed in the next release)", DeprecationWarning,
                          stacklevel=4)
        out[new] = value
    return out


def close_matches(word: str, options: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    """Names in ``options`` that look like ``word`` (for 'did you mean' messages)."""
    return difflib.get_close_matches(word, list(options), n=n, cutoff=0.6)


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean 'x'?"`` with the best match (several only when they tie), or ``""``."""
    matches = close_matches(word, options)
    if not matches:
        return ""
    score = [difflib.SequenceMatcher(None, word, m).ratio() for m in matches]
    matches = [m for m, r in zip(matches, score) if r >= score[0] - 0.02]
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"


def signature_params(factory: Callable[..., Any]) -> tuple[tuple[Param, ...], bool]:
    """Declared parameters of a class (its ``__init__``) or function, and whether it takes ``**kwargs``."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        sig = inspect.signature(target)
        hints = _type_hints(target)
    except (TypeError, ValueError):
        return (), True
    params: list[Param] = []
    extra = False
    for i, p in enumerate(sig.parameters.values()):
        if inspect.isclass(factory) and i == 0:
            continue  # self
        if p.kind is p.VAR_KEYWORD:
            extra = True
            continue
        if p.kind is p.VAR_POSITIONAL:
            continue
        params.append(Param(p.name, hints.get(p.name, Any), p.default))
    return tuple(params), extra


def _type_hints(target: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable forward references: fall back to untyped
        return {}


def _summary_of(factory: Callable[..., Any]) -> str:
    doc = inspect.getdoc(factory) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Registry:
    """Holds entries by kind and name.

    Example:
        >>> def twice(x: float = 1.0):
        ...     '''Returns double.'''
        ...     return 2 * x
        >>> reg = Registry()
        >>> reg.add("loss", "twice", twice, plugin="mine").summary
        'Returns double.'
        >>> reg.build("loss", "twice", x=3)
        6
    """

    def __init__(self, kinds: tuple[str, ...] = KINDS) -> None:
        self._entries: dict[str, dict[str, Entry]] = {k: {} for k in kinds}
        self._kind_plugins: dict[str, str] = {}  # kinds added by plugins -> the plugin that added them

    # -- adding ---------------------------------------------------------------------------------
    def add_kind(self, kind: str, *, plugin: str | None = None) -> None:
        """Declare a new component kind (for plugins that bring a kind of their own).

        Args:
            kind: the new kind's name; declaring an existing kind again does nothing.
            plugin: the plugin declaring it (the first declarer is kept as its owner).
        """
        if kind not in self._entries:
            self._entries[kind] = {}
            self._kind_plugins[kind] = plugin or "unknown"

    def kind_plugin(self, kind: str) -> str | None:
        """The plugin that declared ``kind`` with :meth:`add_kind`; None for toonkit's own kinds."""
        return self._kind_plugins.get(kind)

    def add(
        self,
        kind: str,
        name: str,
        factory: Callable[..., Any],
        *,
        summary: str | None = None,
        override: bool = False,
        plugin: str | None = None,
    ) -> Entry:
        """Register ``factory`` as ``kind``/``name``; a duplicate is an error unless ``override``.

        Plugins do not call this directly: their hook gets a :class:`PluginRegistry` that passes their
        name as ``plugin``.
        """
        self._check_kind(kind)
        if not callable(factory):  # caught here, not when a recipe first builds it
            raise TypeError(f"{kind} '{name}': the factory must be a class or function, "
                            f"got {type(factory).__name__}")
        existing = self._entries[kind].get(name)
        owner = plugin or "unknown"
        if existing is not None and not override:
            raise DuplicateComponentError(
                f"{kind} '{name}' is already registered by plugin '{existing.plugin}'; "
                f"plugin '{owner}' must pass override=True to replace it"
            )
        params, extra = signature_params(factory)
        entry = Entry(kind, name, factory, summary if summary is not None else _summary_of(factory),
                      params, owner, extra)
        self._entries[kind][name] = entry
        return entry

    def snapshot(self) -> dict[str, dict[str, Entry]]:
        """A copy of every entry, for :meth:`restore` (rolling back a plugin that failed halfway)."""
        return {kind: dict(entries) for kind, entries in self._entries.items()}

    def restore(self, snapshot: dict[str, dict[str, Entry]]) -> None:
        """Put back the entries (and kinds) of a :meth:`snapshot`: overridden entries come back too."""
        self._entries = {kind: dict(entries) for kind, entries in snapshot.items()}
        self._kind_plugins = {k: p for k, p in self._kind_plugins.items() if k in self._entries}

    # -- reading --------------------------------------------------------------------------------
    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def get(self, kind: str, name: str) -> Entry:
        """The entry ``kind``/``name``; an unknown name raises with close matches and all names."""
        self._check_kind(kind)
        try:
            return self._entries[kind][name]
        except KeyError:
            names = sorted(self._entries[kind])
            raise UnknownComponentError(
                f"unknown {kind} '{name}'{did_you_mean(str(name), names)} "
                f"(registered {kind}s: {', '.join(names) or 'none'})"
            ) from None

    def __contains__(self, key: tuple[str, Any]) -> bool:
        kind, name = key
        return name in self._entries.get(kind, {})

    def build(self, kind: str, name: str, **params: Any) -> Any:
        """Create component ``kind``/``name`` with ``params``."""
        return self.get(kind, name).build(**params)

    def list(self, kind: str | None = None, pattern: str = "*") -> list[Entry]:
        """Entries of ``kind`` (all kinds when None) whose name matches the fnmatch ``pattern``."""
        if kind is not None:
            self._check_kind(kind)
        kinds = [kind] if kind else list(self._entries)
        return [
            e
            for k in kinds
            for n, e in sorted(self._entries[k].items())
            if fnmatch.fnmatchcase(n, pattern)
        ]

    def by_plugin(self, plugin: str) -> dict[str, builtins.list[str]]:
        out: dict[str, builtins.list[str]] = {}
        for e in self:
            if e.plugin == plugin:
                out.setdefault(e.kind, []).append(e.name)
        return out

    def __iter__(self) -> Iterator[Entry]:
        for entries in self._entries.values():
            yield from entries.values()

    def _check_kind(self, kind: str) -> None:
        if kind not in self._entries:
            raise UnknownComponentError(
                f"unknown component kind '{kind}'{did_you_mean(kind, list(self._entries))} "
                f"(kinds: {', '.join(self._entries)})"
            )
