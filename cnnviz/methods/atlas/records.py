"""Per-filter records of the atlas (the Python API): activation statistics over the data and the top-k
dataset examples with the receptive-field box of the unit that fired."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

from ...errors import CnnvizError
from .topk import LayerScan


@dataclass
class Example:
    """One dataset example: image ``image`` (index in the data), the filter's strongest unit ``unit`` (i, j)
    with ``value``, and the pixel box ``box`` (y0, x0, y1, x1; end exclusive) that unit sees."""

    image: int
    value: float
    unit: tuple[int, int]
    box: tuple[int, int, int, int]


@dataclass
class FilterRecord:
    """What the data says about one filter: mean activation (over images and positions), the highest value,
    the share of images where it fires (max > 0), a histogram of its per-image maximum, its top examples
    (only images where it fires, so fewer than k when it fires on fewer)."""

    layer: str
    index: int
    mean: float
    max: float
    active_share: float
    hist_edges: list[float]
    hist_counts: list[int]
    examples: list[Example] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "FilterRecord":
        ex = [Example(e["image"], e["value"], tuple(e["unit"]), tuple(e["box"])) for e in d["examples"]]
        return cls(**{**d, "examples": ex})


def records_from_scan(layer: str, scan: LayerScan, field_, image_hw: tuple[int, int],
                      filters: list[int] | None = None) -> list[FilterRecord]:
    """Records of ``filters`` (default: all) from a finished scan; ``field_`` is the layer's
    :class:`~cnnviz.models.receptive_field.ReceptiveField` for ``image_hw`` inputs."""
    out = []
    for f in filters if filters is not None else range(scan.filters):
        h = scan.hists[f]
        # only images where the filter fires: a filter that fires on 2 images has 2 examples, not 2 and 6 zeros
        examples = [Example(i, v, ij, tuple(int(c) for c in field_.box(ij[0], ij[1], image_hw))) for i, v, ij in scan.top(f) if v > 0]
        out.append(FilterRecord(layer, int(f), float(scan.total[f] / max(scan.seen, 1)), float(scan.peak[f]),
                                float(scan.active[f] / max(scan.seen, 1)), [float(e) for e in h.edges],
                                [int(c) for c in h.counts], examples))
    return out


def dataset_examples(loaded, layers: list[str], data=None, *, top_k: int = 8, size: int | None = None,
                     batch_size: int = 32, filters: int | None = None,
                     progress: Callable[[int, int], None] | None = None) -> dict[str, list[FilterRecord]]:
    """Per-filter records for each conv layer of ``layers`` over ``data`` (a path, a
    :class:`~cnnviz.methods.atlas.data.DataSource`, or None for the bundled data): one forward pass per batch for all
    layers together. ``filters``: keep the first N filters of each layer (default all)."""
    from ..filters import check_conv_layer
    from ...models import feature_model, layer_name
    from ...models.receptive_field import receptive_field
    from .data import DataSource, open_data
    from .topk import scan_layers

    if top_k < 1:
        raise CnnvizError("--top-k must be at least 1")
    hw = loaded.image_size(size)
    source = data if isinstance(data, DataSource) else open_data(data, hw[0], hw[1], loaded.channels, model_name=loaded.name)
    paths = [check_conv_layer(loaded, name) for name in layers]
    names = [layer_name(p) for p in paths]
    model = feature_model(loaded.model, paths, size=hw)
    scans = scan_layers(model, loaded.preprocess, names, source, top_k, batch_size, progress)
    out = {}
    for p, name in zip(paths, names):
        scan = scans[name]
        chosen = list(range(scan.filters if filters is None else min(filters, scan.filters)))
        out[name] = records_from_scan(name, scan, receptive_field(loaded.model, p, hw), hw, chosen)
    return out
