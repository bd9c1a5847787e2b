"""``cnnviz.layers``, ``cnnviz.kernels`` and ``cnnviz.edges``: a model's layers and first-layer kernels,
and the classic edge kernels they are compared with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import checks
from .common import Note, check_folders, check_images, check_model, load_here, model_ref, say, scoped


def _saved(result, out: str | Path | None, overwrite: bool):
    if out is not None:
        result.save(out, overwrite)
    return result


@scoped
def layers(model: Any, *, top: bool = True, weights: Any = "none", preprocess: str | None = None, unsafe: bool = False,
           out: str | Path | None = None, overwrite: bool = False, note: Note | None = say):
    """The layer table (name, type, output shape, parameters; conv layers marked, nested models
    expanded) as a :class:`~cnnviz.results.LayersResult` (a table in notebooks), with the classifier's
    top 3 on the bundled cat fed with the assumed preprocessing (a wrong input scale shows at once).
    ``top``: with the classifier head (``keras.applications`` names); ``weights``: ``none`` by default
    (no download)."""
    check_model(model)
    check_folders(out)
    from ..models.classifier import cat_predictions
    from ..models.model_io import describe_inputs, describe_outputs
    from ..models.summary import layer_rows
    from ..results.layers import LayersResult

    loaded = load_here(model, include_top=top, weights=weights, preprocess=preprocess, unsafe=unsafe, note=note)
    rows, total, trainable = layer_rows(loaded.model)
    try:
        outputs = describe_outputs(loaded.model)
    except (AttributeError, ValueError):
        outputs = []
    result = LayersResult([(r.name, r.kind, r.output_shape, r.params, r.is_conv) for r in rows], total, trainable,
                          describe_inputs(loaded.model), outputs, loaded.preprocess, cat_predictions(loaded) or [],
                          loaded.untrained, model=model_ref(loaded))
    if out is not None:
        result.plan(out, overwrite)
    return _saved(result, out, overwrite)


@scoped
def kernels(model: Any, *, layer: str = "first-conv", weights: Any = "imagenet", unsafe: bool = False,
            out: str | Path | None = None, overwrite: bool = False, note: Note | None = say):
    """A conv layer's learned kernels (default: the first conv layer), each with the classic kernel it
    most resembles, as a :class:`~cnnviz.results.KernelResult`."""
    check_model(model)
    check_folders(out)
    from ..methods.kernels import learned_kernels

    loaded = load_here(model, include_top=False, weights=weights, unsafe=unsafe, note=note)
    result = learned_kernels(loaded, layer)
    result.model = model_ref(loaded)
    return _saved(result, out, overwrite)


def edges(image: Any = None, *, kernel: str = "sobel", per_channel: bool = False, gallery: bool = False,
          border: str = "reflect101", out: str | Path | None = None, overwrite: bool = False, note: Note | None = say):
    """A classic kernel (``sobel``, ``prewitt``, ``scharr``, ``laplacian``, ``blur``... or a kernel file)
    run on ``image`` (default: the bundled cat) by a real Keras ``Conv2D``: V and H responses, gradient
    magnitude and orientation (an :class:`~cnnviz.results.EdgeResult`); ``gallery``: every classic
    kernel side by side (a :class:`~cnnviz.results.GalleryResult`)."""
    from ..inputs.images import as_array, bundled_cat, read_image
    from ..methods.edges import BORDERS, edge_filter, resolve_kernel

    checks.choice(border, tuple(BORDERS), "--border")
    if not gallery:
        resolve_kernel(kernel)  # validated before reading or writing anything
    image = check_images(image)[0]
    check_folders(out)
    if image is None or isinstance(image, (str, Path)):
        source = Path(image) if image is not None else bundled_cat()
        pixels, label, stem = read_image(source), str(image) if image is not None else "the bundled cat photo", source.stem
        where = str(source)
    else:
        pixels, notes = as_array(image)
        label = where = "array"
        stem = "image"
        for text in notes if note else ():
            note(text)
    if gallery:
        return _saved(_gallery(pixels, border, where, stem), out, overwrite)
    kstem = Path(kernel).stem if Path(kernel).suffix else kernel
    if out is not None:
        from ..output.files import plan_output
        from ..results import EdgeResult

        plan_output(out, EdgeResult.name_for(stem, kstem, per_channel), overwrite)
    result = edge_filter(pixels, kernel, per_channel=per_channel, border=border)
    if result.dtype != "float64" and note:
        note(f"this backend/device has no float64 convolution; the responses are {result.dtype}")
    result.image, result.source, result.per_channel, result.border = pixels, label, per_channel, border
    result.input_stem, result.kernel_stem, result.extra = stem, kstem, {"input": where}
    return _saved(result, out, overwrite)


def _gallery(pixels, border: str, where: str, stem: str):
    from ..methods.edges import gallery
    from ..methods.kernels_classic import gallery_kernels
    from ..results import GalleryResult

    return GalleryResult(pixels, gallery(pixels, border), gallery_kernels(), border, where, stem)
