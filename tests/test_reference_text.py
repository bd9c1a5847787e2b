"""Reference values for cnnviz.output.text: probabilities as captions print them (hand-computed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cnnviz.output.text import fmt_p, top5_lines


@pytest.mark.parametrize(
    "p, text",
    [
        (1.0, "1"),
        (1.5, "1"),
        (0.999996, "> 0.9999"),
        (0.99991, "> 0.9999"),
        (0.9999, "0.9999"),  # not above 0.9999: printed, not "> 0.9999"
        (0.99897, "0.9989"),  # cut, not rounded (rounding would read 0.9990)
        (0.12345, "0.1234"),
        (0.5, "0.5000"),
        (0.0001, "0.0001"),  # the smallest value printed with 4 decimals
        (0.00009, "9.0e-05"),
        (3.14e-6, "3.1e-06"),
        (0.0, "0"),
        (-0.1, "0"),
        (0.0003, "0.0003"),  # 0.0003 * 10000 = 2.9999999999999996: the 1e-9 keeps it 0.0003
    ],
)
def test_fmt_p(p: float, text: str) -> None:
    assert fmt_p(p) == text


def test_top5_lines_keeps_order_and_cuts_at_k() -> None:
    preds = [SimpleNamespace(name=str(i), probability=0.5 / (i + 1)) for i in range(7)]
    assert top5_lines(preds) == ["0: 0.5000", "1: 0.2500", "2: 0.1666", "3: 0.1250", "4: 0.1000"]
    assert top5_lines(preds, k=2) == ["0: 0.5000", "1: 0.2500"]
