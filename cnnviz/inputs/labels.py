"""Class names: ImageNet's 1,000 (shipped in the package), digits, or a user's labels file."""

from __future__ import annotations

import difflib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import CnnvizError


@lru_cache(maxsize=1)
def _imagenet_rows() -> tuple[list[str], ...]:
    """Rows of the shipped table: index, WordNet id, unique short name, WordNet lemmas."""
    text = resources.files("cnnviz").joinpath("data/imagenet_classes.tsv").read_text(encoding="utf-8")
    return tuple(line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))


@lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1,000 ILSVRC-2012 class names in index order (unique short names; 65 is 'sea snake')."""
    return tuple(row[2] for row in _imagenet_rows())


@lru_cache(maxsize=1)
def imagenet_synonyms() -> tuple[tuple[str, ...], ...]:
    """For each ImageNet class, its WordNet lemmas ('tench', 'Tinca tinca')."""
    return tuple(tuple(s.strip() for s in row[3].split(",")) for row in _imagenet_rows())


def digit_classes() -> tuple[str, ...]:
    return tuple(str(i) for i in range(10))


def read_labels_file(path: str | Path) -> tuple[str, ...]:
    """One class name per line; blank lines are ignored."""
    p = Path(path)
    try:
        names = [line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise CnnvizError(f"cannot read labels file {str(p)!r}: {exc.strerror or exc}") from None
    if not names:
        raise CnnvizError(f"labels file {str(p)!r} is empty; it needs one class name per line")
    return tuple(names)


def resolve_class(spec: str | int, names: tuple[str, ...] | None, num_classes: int) -> int:
    """Turn '65', 65 or 'sea snake' into a class index, with the nearest names on a miss."""
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if not 0 <= index < num_classes:
            raise CnnvizError(f"class {index} is out of range; this model has classes 0-{num_classes - 1}")
        return index
    if not names:
        raise CnnvizError(
            f"class {text!r} is not an index and this model has no class names; give an index "
            f"0-{num_classes - 1} or a --labels FILE"
        )
    lowered = [n.lower() for n in names]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    if names == imagenet_classes():
        for i, synonyms in enumerate(imagenet_synonyms()):
            if text.lower() in (s.lower() for s in synonyms):
                return i
    near = difflib.get_close_matches(text.lower(), lowered, n=3, cutoff=0.5)
    if near:
        hint = "nearest: " + ", ".join(repr(names[lowered.index(n)]) for n in near)
    elif len(names) <= 20:
        hint = "this model's classes are: " + ", ".join(names)
    else:
        hint = f"none close; give an index 0-{num_classes - 1}"
    raise CnnvizError(f"unknown class name {text!r}; {hint}")
