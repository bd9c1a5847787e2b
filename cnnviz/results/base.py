"""What every result shares: it draws itself in a notebook, plots on matplotlib axes and saves exactly
the files the CLI writes (one PNG + its JSON manifest).

A result class says three things: ``figure()`` (its one rendering, uint8 RGB), ``record()`` (its own
manifest fields) and ``stem`` (the file name without suffix); ``command`` names the CLI command that
makes it. Everything else here is shared. numpy, Pillow and (on demand) matplotlib; no TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..output.files import OutputPaths, encode_png, plan_output, plan_tiles, save_result, save_tiles


@dataclass(frozen=True)
class ModelRef:
    """The model a result was made with: the name drawn in titles, the file-name stem and the manifest's
    description of it (name, preprocessing, weights)."""

    name: str = ""
    stem: str = ""
    info: dict = field(default_factory=dict)


def file_stem(*parts: object) -> str:
    """Parts joined by ``_``, empty ones dropped, anything but ``A-Za-z0-9._+-`` replaced by ``-``."""
    text = "_".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-")


class Figure:
    """Display for anything with a ``figure()``: ``_repr_png_`` (the last line of a notebook cell draws
    it), ``plot(ax)`` and ``show()``."""

    def figure(self) -> np.ndarray:  # pragma: no cover - every result defines it
        raise NotImplementedError

    def _repr_png_(self) -> bytes:
        return encode_png(self.figure())

    def plot(self, ax=None):
        """Draw the figure on matplotlib axes (new ones at the figure's own pixel size by default);
        returns ``(fig, ax)``."""
        import matplotlib.pyplot as plt

        image = self.figure()
        if ax is None:
            dpi = 100
            fig, ax = plt.subplots(figsize=(image.shape[1] / dpi, image.shape[0] / dpi), dpi=dpi)
            fig.subplots_adjust(0, 0, 1, 1)
        else:
            fig = ax.figure
        ax.imshow(image, interpolation="nearest")
        ax.set_axis_off()
        return fig, ax

    def show(self) -> None:
        """Display the figure: inline in IPython/Jupyter, else in a matplotlib window."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(self)
            return
        import matplotlib.pyplot as plt

        self.plot()
        plt.show()


def tile_name(prefix: str, index: int, k: int = 0, diversity: int = 1) -> str:
    """A picture's own file name: ``<prefix>_<index>``, ``_<k>`` for the k-th of ``diversity`` pictures."""
    return f"{prefix}_{index}" + (f"_{k}" if diversity > 1 else "")


def picture_tiles(prefix: str, ids, images, diversity: int = 1) -> list[tuple[str, np.ndarray]]:
    """``(name, image)`` for pictures laid out ``diversity`` per id, consecutively."""
    return [(tile_name(prefix, i, n % diversity, diversity), im) for n, (i, im) in enumerate(zip(ids, images))]


@dataclass(kw_only=True)
class Shown(Figure):
    """Mixin for results: display (see :class:`Figure`) and ``save(folder)``. ``model`` and ``extra``
    (more manifest fields, such as where the input image came from) are filled in by :mod:`cnnviz.api`."""

    command: ClassVar[str] = ""
    model: ModelRef = field(default_factory=ModelRef, repr=False)
    extra: dict = field(default_factory=dict, repr=False)

    def record(self) -> dict:  # pragma: no cover - every result defines it
        raise NotImplementedError

    @property
    def stem(self) -> str:  # pragma: no cover - every result defines it
        raise NotImplementedError

    @property
    def key(self) -> str:
        """How :class:`Results` finds this one among several (a layer or an input's name)."""
        return self.stem

    def manifest(self) -> dict:
        """The JSON manifest: the command, the model, what the result knows, then ``extra``."""
        return {"command": self.command, **self.model.info, **self.record(), **self.extra}

    def tiles(self) -> list[tuple[str, np.ndarray]]:
        """``(name, image)`` of each picture alone at full resolution (results made of pictures)."""
        return []

    def save_tiles(self, folder: str | Path, overwrite: bool = False) -> list[Path]:
        """Write each of :meth:`tiles` as ``folder/<name>.png`` (exactly the grid's pixels)."""
        named = self.tiles()
        targets = plan_tiles(folder, [n for n, _ in named], overwrite)
        return save_tiles(targets, [image for _, image in named])

    def plan(self, folder: str | Path = "outputs", overwrite: bool = False) -> OutputPaths:
        """Where :meth:`save` will write, checked now: an existing file is refused unless ``overwrite``."""
        return plan_output(folder, self.stem, overwrite)

    def save(self, folder: str | Path = "outputs", overwrite: bool = False) -> OutputPaths:
        """Write ``folder/<stem>.png`` and ``folder/<stem>.json`` atomically, exactly as the CLI does."""
        paths = self.plan(folder, overwrite)
        return save_result(paths, self.figure(), self.manifest())


class Results(list, Figure):
    """Several results of one call (one per layer, or per image): shown one under another, saved each
    to its own files; ``results["conv1"]`` picks one by its layer or input name."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for r in self:
                if r.key == key:
                    return r
            raise KeyError(f"no result for {key!r}; have: {', '.join(self.keys())}")
        return list.__getitem__(self, key)

    def keys(self) -> list[str]:
        return [r.key for r in self]

    def figure(self) -> np.ndarray:
        figures = [r.figure() for r in self]
        width = max(f.shape[1] for f in figures)
        gap = np.full((12, width, 3), 255, "uint8")
        rows = []
        for f in figures:
            rows += [np.pad(f, ((0, 0), (0, width - f.shape[1]), (0, 0)), constant_values=255), gap]
        return np.concatenate(rows[:-1], axis=0)

    def save(self, folder: str | Path = "outputs", overwrite: bool = False) -> list[OutputPaths]:
        """Save every result; all destinations are checked before the first file is written."""
        for r in self:
            r.plan(folder, overwrite)
        return [r.save(folder, overwrite) for r in self]
