"""Per-image settings of a translation (:class:`TranslateOptions`): one checked object that
:meth:`~toonkit.translate.api.Cartoonizer.translate`, the folder engine (:mod:`toonkit.translate.folder`),
``toonkit translate`` and the demo all pass down.

A new per-image setting is one new field here, with its default and its check in
:meth:`TranslateOptions.__post_init__`: it is then a keyword of ``Cartoonizer.translate``,
``translate_tensors``, ``translate_batch`` and ``translate_folder``, checked the same way everywhere, and
a misspelt keyword is an error naming the known ones instead of being ignored.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from toonkit.registry import did_you_mean
from toonkit.translate.background import NEEDS_MASK, check_background
from toonkit.translate.colors import DEFAULT_COLORS, check_colors
from toonkit.translate.faces import API_FACES, DEFAULT_FACE_SIZE, check_face_size, check_faces

#: a requested output size: a short side, ``"original"``, or None for the input's own size
Size = int | str | None


@dataclass(frozen=True)
class TranslateOptions:
    """What every image of one translation call gets.

    Attributes:
        background: ``keep``, ``white``, ``blur``, ``original`` or ``transparent``
            (:data:`~toonkit.translate.background.BACKGROUNDS`); all but ``keep`` need a masker.
        size: ``None`` (the input's size, translated at the model's working size and upsampled), a short
            side in pixels, or ``"original"`` (translated at the input's own size); see
            :class:`~toonkit.translate.api.Cartoonizer`.
        colors: ``keep`` (default) puts the photo's colour statistics back on the person, through the
            model's masker (the whole image without one); ``style`` returns the model's own colours
            (:mod:`toonkit.translate.colors`).
        faces: ``off`` (the API's default), ``auto`` (each face that is small for the model is also
            translated at the model's scale and blended in; the default of ``toonkit translate`` and the
            demo) or ``crop`` (one portrait per face instead of the whole image: the folder engine and
            :meth:`~toonkit.translate.api.Cartoonizer.portraits` only); see :mod:`toonkit.translate.faces`.
        face_size: the side in pixels of each portrait with ``faces="crop"``.

    Raises:
        ValueError: a value that is not one of the above (the message names the valid ones).

    Example:
        >>> TranslateOptions.of(background="white", size=256)
        TranslateOptions(background='white', size=256, colors='keep', faces='off', face_size=256)
        >>> TranslateOptions.of(backgrund="white")
        Traceback (most recent call last):
        ...
        TypeError: unknown translation option 'backgrund'; did you mean 'background'? (options: background, size, colors, faces, face_size)
    """

    background: str = "keep"
    size: Size = None
    colors: str = DEFAULT_COLORS
    faces: str = API_FACES
    face_size: int = DEFAULT_FACE_SIZE

    def __post_init__(self) -> None:
        check_background(self.background)
        check_colors(self.colors)
        check_faces(self.faces)
        check_face_size(self.face_size)
        size = self.size
        if size is not None and size != "original" and (
                not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise ValueError(f"size must be a positive int, 'original' or None, got {size!r}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def of(cls, base: TranslateOptions | None = None, **changes: Any) -> TranslateOptions:
        """``base`` (default: the defaults) with ``changes`` applied and checked.

        Raises:
            TypeError: a name that is no option (with the closest one), as a misspelt keyword would.
            ValueError: a value an option does not take.
        """
        names = cls.names()
        for key in changes:
            if key not in names:
                raise TypeError(f"unknown translation option {key!r}{did_you_mean(key, names)} "
                                f"(options: {', '.join(names)})")
        return dataclasses.replace(base or cls(), **changes)

    def as_kwargs(self) -> dict[str, Any]:
        """The options as keywords of :meth:`~toonkit.translate.api.Cartoonizer.translate_tensors`."""
        return {name: getattr(self, name) for name in self.names()}

    @property
    def needs_mask(self) -> bool:
        """Whether these options need a person mask (a background other than ``keep``)."""
        return self.background in NEEDS_MASK
