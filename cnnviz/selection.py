"""Parsing index selections such as ``0-63`` or ``3,7,12`` (no TensorFlow)."""

from __future__ import annotations

from .errors import CnnvizError


def parse_indices(spec: str, count: int, what: str = "filter", flag: str = "--filters") -> list[int]:
    """``"0-3,9"`` -> [0, 1, 2, 3, 9]; checked against ``count`` available indices."""
    out: list[int] = []
    for part in str(spec).replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise CnnvizError(f"{flag} {spec!r}: {part!r} is not an index or a range such as 0-63 or 3,7,12")
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a:
            raise CnnvizError(f"{flag} {spec!r}: range {part} ends before it starts; write {b}-{a}")
        if b >= count:  # checked before the range is made: 0-99999999999999999999 is one line, not a MemoryError
            raise CnnvizError(f"{what} {max(a, count)} is out of range: there are {count} ({what}s 0-{count - 1})")
        out.extend(range(a, b + 1))
    if not out:
        raise CnnvizError(f"{flag} {spec!r} selects nothing; write a range such as 0-63 or a list such as 3,7,12")
    return list(dict.fromkeys(out))
