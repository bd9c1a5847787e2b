"""Output files: PNG and JSON manifests written atomically (temp file + rename), never replacing a
user's file without ``overwrite``, checked before the work starts."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..version import __version__
from ..atomic import atomic_target, atomic_write  # noqa: F401 (re-exported: the output layer's writers)
from ..errors import CnnvizError
from ..pixels import to_uint8

@dataclass(frozen=True)
class OutputPaths:
    """Where one result goes: the PNG and the JSON manifest beside it."""

    png: Path
    manifest: Path


def check_folder(out_dir: str | Path) -> Path:
    """Check that ``out_dir`` is, or can be created as, a writable folder, without creating it: a
    command that fails later leaves no empty folder behind (the folder is made when a file is saved)."""
    folder = Path(out_dir)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        if probe == folder:
            raise CnnvizError(f"output path {str(folder)!r} is not a folder; choose another with --out")
        raise CnnvizError(f"cannot create output folder {str(folder)!r}: {str(probe)!r} is a file; choose another with --out")
    if not os.access(probe, os.W_OK | os.X_OK):
        if probe == folder:
            raise CnnvizError(f"output folder {str(folder)!r} is not writable; choose another with --out")
        raise CnnvizError(f"cannot create output folder {str(folder)!r}: {str(probe)!r} is not writable; choose another with --out")
    return folder


def plan_output(out_dir: str | Path, stem: str, overwrite: bool = False) -> OutputPaths:
    """Check, before any work is done, that ``out_dir/stem.png`` can be written.

    Refuses an existing file unless ``overwrite``; checks that the folder is (or can be made)
    writable, without creating it. Raises :class:`CnnvizError` with a one-line reason.
    """
    folder = check_folder(out_dir)
    paths = OutputPaths(folder / f"{stem}.png", folder / f"{stem}.json")
    if not overwrite:
        for p in (paths.png, paths.manifest):
            if p.exists():
                raise CnnvizError(f"{str(p)!r} already exists; pass --overwrite to replace it or --out DIR")
    return paths


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
    atomic_write(Path(path), encode_png(image))
    return Path(path)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return _jsonable(x.item())  # a NumPy nan/inf becomes null like a Python one (json writes NaN otherwise)
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, Path):
        return str(x)
    return x


def write_manifest(path: str | Path, record: dict[str, Any]) -> Path:
    """Write the JSON manifest atomically; the cnnviz version is always recorded."""
    body = {"cnnviz_version": __version__, **_jsonable(record)}
    atomic_write(Path(path), (json.dumps(body, indent=2) + "\n").encode("utf-8"))
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


def save_gif(path: str | Path, frames: Sequence[np.ndarray], ms_per_frame: int = 700) -> Path:
    """An animated GIF of ``frames`` (atomically), each padded with white to the largest frame
    (figures of one series can differ by a wrapped line); it loops forever."""
    from PIL import Image

    if not frames:
        raise CnnvizError(f"no frames for {str(path)!r}")
    rgb = [np.repeat(f, 3, -1) if f.ndim == 3 and f.shape[-1] == 1 else (np.stack([f] * 3, -1) if f.ndim == 2 else f)
           for f in (to_uint8(f) for f in frames)]
    h, w = max(f.shape[0] for f in rgb), max(f.shape[1] for f in rgb)
    padded = []
    for f in rgb:
        canvas = np.full((h, w, 3), 255, np.uint8)
        canvas[: f.shape[0], : f.shape[1]] = f[..., :3]
        padded.append(Image.fromarray(canvas).quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
    with atomic_target(Path(path), suffix=".gif") as tmp:
        padded[0].save(tmp, format="GIF", save_all=True, append_images=padded[1:], duration=ms_per_frame, loop=0,
                       disposal=1, optimize=False)
    return Path(path)
