"""How numbers read in captions: probabilities and top-k lines (no TensorFlow)."""

from __future__ import annotations

import math
from typing import Sequence


def fmt_p(p: float) -> str:
    """A probability as people read it: 0.9731, 0.0002, 3.1e-06; never "1.00000" for 0.999996. Cut, not
    rounded, to 4 decimals: 0.99897 reads 0.9989, so a p below a 0.999 target never reads as reaching it."""
    p = float(p)
    if p >= 1.0:
        return "1"
    if p > 0.9999:
        return "> 0.9999"
    if p < 0.0001:
        return "0" if p <= 0.0 else f"{p:.1e}"
    return f"{math.floor(p * 10000 + 1e-9) / 10000:.4f}"


def top5_lines(preds: Sequence, k: int = 5) -> list[str]:
    """``class: p`` lines (the class name first, then a colon: "5: 0.0002" cannot read as 0.00025)."""
    return [f"{p.name}: {fmt_p(p.probability)}" for p in list(preds)[:k]]
