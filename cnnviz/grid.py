"""Grid layout, captions, and atomic PNG/JSON output. No TensorFlow here.

Geometry (exact, tested): with ``cols`` columns, ``rows`` rows, tiles of ``th x tw`` (after integer
upscaling), ``margin`` pixels and a caption band of ``caption_height`` pixels under every tile
(0 when there are no captions)::

    width  = cols * tw + (cols + 1) * margin
    height = rows * (th + caption_height) + (rows + 1) * margin
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import __version__
from .errors import CnnvizError
from .imaging import to_rgb, to_uint8, upscale_nearest

BACKGROUND = 255
CAPTION_FONT_SIZE = 11


def _font(size: int = CAPTION_FONT_SIZE):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def caption_height(lines: int = 1, size: int = CAPTION_FONT_SIZE) -> int:
    return lines * (size + 3) + 2


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """(rows, cols) for n tiles: near-square unless ``cols`` is given."""
    if n <= 0:
        raise CnnvizError("nothing to lay out: the grid has no tiles")
    cols = cols or math.ceil(math.sqrt(n))
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def make_grid(
    tiles: Sequence[np.ndarray],
    captions: Sequence[str] | None = None,
    cols: int | None = None,
    margin: int = 4,
    min_tile: int = 96,
) -> np.ndarray:
    """Lay tiles (uint8, grey or RGB, all the same size) out as an RGB uint8 grid.

    Small tiles are enlarged by an integer nearest-neighbour factor to at least ``min_tile`` pixels
    so that they stay crisp and the captions fit. A caption may hold several lines (``\\n``).
    """
    if not len(tiles):
        raise CnnvizError("nothing to lay out: the grid has no tiles")
    shapes = {t.shape[:2] for t in tiles}
    if len(shapes) != 1:
        raise CnnvizError(f"grid tiles differ in size: {sorted(shapes)}")
    th0, tw0 = shapes.pop()
    factor = max(1, math.ceil(min_tile / max(th0, tw0))) if min_tile else 1
    th, tw = th0 * factor, tw0 * factor
    rows, cols = grid_shape(len(tiles), cols)
    lines = max((c.count("\n") + 1 for c in captions), default=0) if captions else 0
    cap_h = caption_height(lines) if lines else 0
    width = cols * tw + (cols + 1) * margin
    height = rows * (th + cap_h) + (rows + 1) * margin
    canvas = np.full((height, width, 3), BACKGROUND, dtype="uint8")
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y = margin + r * (th + cap_h + margin)
        x = margin + c * (tw + margin)
        canvas[y : y + th, x : x + tw] = upscale_nearest(to_rgb(to_uint8(tile)), factor)
    if cap_h:
        canvas = _draw_captions(canvas, captions, rows, cols, th, tw, cap_h, margin)
    return canvas


def _draw_captions(canvas, captions, rows, cols, th, tw, cap_h, margin) -> np.ndarray:
    from PIL import Image, ImageDraw

    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    font = _font()
    for i, text in enumerate(captions):
        r, c = divmod(i, cols)
        y = margin + r * (th + cap_h + margin) + th + 1
        x = margin + c * (tw + margin)
        for k, line in enumerate(text.split("\n")):
            while line and draw.textlength(line, font=font) > tw:
                line = line[:-1]
            draw.text((x + 1, y + k * (CAPTION_FONT_SIZE + 3)), line, fill=(20, 20, 20), font=font)
    return np.asarray(img)


def hstack_panels(panels: Sequence[np.ndarray], titles: Sequence[str], margin: int = 6, min_tile: int = 160) -> np.ndarray:
    """A one-row panel [a | b | c] with a title under each image (all images resized to one height)."""
    import cv2

    h = max(max(p.shape[0] for p in panels), min_tile)
    tiles = []
    for p in panels:
        p = to_rgb(to_uint8(p))
        w = max(1, round(p.shape[1] * h / p.shape[0]))
        interp = cv2.INTER_NEAREST if p.shape[0] < h else cv2.INTER_AREA
        tiles.append(cv2.resize(p, (w, h), interpolation=interp) if p.shape[:2] != (h, w) else p)
    width = max(t.shape[1] for t in tiles)
    padded = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0)), constant_values=BACKGROUND) for t in tiles]
    return make_grid(padded, titles, cols=len(padded), margin=margin, min_tile=0)


# ---------------------------------------------------------------- output files


@dataclass(frozen=True)
class OutputPaths:
    """Where one result goes: the PNG and the JSON manifest beside it."""

    png: Path
    manifest: Path


def plan_output(out_dir: str | Path, stem: str, overwrite: bool = False) -> OutputPaths:
    """Check, before any work is done, that ``out_dir/stem.png`` can be written.

    Creates the folder; refuses an existing file unless ``overwrite``; checks that the folder is
    writable. Raises :class:`CnnvizError` with a one-line reason.
    """
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CnnvizError(f"cannot create output folder {str(folder)!r}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise CnnvizError(f"output path {str(folder)!r} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CnnvizError(f"output folder {str(folder)!r} is not writable; choose another with --out")
    paths = OutputPaths(folder / f"{stem}.png", folder / f"{stem}.json")
    if not overwrite:
        for p in (paths.png, paths.manifest):
            if p.exists():
                raise CnnvizError(f"{str(p)!r} already exists; pass --overwrite to replace it or --out DIR")
    return paths


@contextmanager
def atomic_target(path: str | Path, suffix: str = ".part"):
    """Yield a temporary path beside ``path``: when the block succeeds it replaces ``path`` (with
    the usual file mode); on any error or Ctrl-C it is removed, leaving nothing half-written."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=str(path.parent))
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _atomic_write(path: Path, data: bytes) -> None:
    with atomic_target(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 grey/RGB image (deterministic: same pixels, same bytes)."""
    import io

    from PIL import Image

    a = to_uint8(image)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def save_png(path: str | Path, image: np.ndarray) -> Path:
    """Write a PNG atomically (a temp file in the same folder, then rename)."""
    _atomic_write(Path(path), encode_png(image))
    return Path(path)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, Path):
        return str(x)
    return x


def write_manifest(path: str | Path, record: dict[str, Any]) -> Path:
    """Write the JSON manifest atomically; the cnnviz version is always recorded."""
    body = {"cnnviz_version": __version__, **_jsonable(record)}
    _atomic_write(Path(path), (json.dumps(body, indent=2) + "\n").encode("utf-8"))
    return Path(path)


def save_result(paths: OutputPaths, image: np.ndarray, record: dict[str, Any]) -> OutputPaths:
    """Write the grid PNG and its manifest (each atomically; the PNG last names the manifest)."""
    write_manifest(paths.manifest, {**record, "image": paths.png.name})
    save_png(paths.png, image)
    return paths


def plan_tiles(folder: str | Path, names: Sequence[str], overwrite: bool = False) -> list[Path]:
    """Check that ``folder/<name>.png`` can be written for every name (before the work is done)."""
    folder = Path(folder)
    plan_output(folder, ".cnnviz-check", overwrite=True)
    targets = [folder / f"{name}.png" for name in names]
    if not overwrite:
        clash = [p for p in targets if p.exists()]
        if clash:
            raise CnnvizError(f"{str(clash[0])!r} already exists; pass --overwrite to replace it")
    return targets


def save_tiles(paths: Sequence[Path], images: Sequence[np.ndarray]) -> list[Path]:
    """Write each image alone at full resolution (exactly the pixels of its grid tile)."""
    for p, image in zip(paths, images):
        save_png(p, image)
    return list(paths)
