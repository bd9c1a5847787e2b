"""Checks of a request that need no TensorFlow: the CLI runs them before Keras loads (rejecting
``--method foo`` takes milliseconds, not the 5 s of importing TensorFlow), and the library runs the
same functions, so the two never disagree."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Sequence

from .errors import CnnvizError

#: what "a unit responds" means, stated in every manifest that reports a response (filters); the
#: graph walk that finds the nonlinearity is cnnviz.models.submodels.response_path
RESPONSE_RULE = ("a unit's response is the positive part of its layer's output after the layer's nonlinearity "
                 "(its own activation, else the first ReLU/PReLU/LeakyReLU/ELU/Activation after it through "
                 "BatchNorm/Add/Dropout, in any graph: functional, Sequential, nested); alive = mean response > 1e-6 "
                 "(some positive response), dead = none")
FILTER_METHODS = ("smooth", "classic")
FOOL_METHODS = ("fool", "visualize")
PRECISIONS = ("auto", "float32", "bfloat16")
SORTS = ("index", "mean", "max")
SCALES = ("layer", "channel")
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
#: Image files cnnviz reads (what OpenCV decodes), for single files, folders and globs alike.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
#: Image parametrisations (cnnviz.optvis.param): fourier is the default for every method but classic.
PARAMS = ("fourier", "pixel", "maco")
#: How a photo is fitted to a model's input (cnnviz.inputs.fitting): crop = short side resized, centre
#: cropped (fixed-size models' default, as they were trained); pad = all of it, letterboxed in black;
#: squash = stretched to the input; keep = aspect kept, short side to --size (default for models of any size).
FIT_MODES = ("crop", "pad", "squash", "keep")
#: Layers with more filters than this are rendered in part unless --filters or --top says otherwise.
BIG_LAYER = 16


def choice(value: str, options: Sequence[str], flag: str) -> str:
    """``value`` if it is one of ``options``, else one line naming the nearest and all of them."""
    if value in options:
        return value
    near = difflib.get_close_matches(str(value), list(options), n=1, cutoff=0.5)
    hint = f" (did you mean {near[0]}?)" if near else ""
    raise CnnvizError(f"unknown {flag} {value!r}{hint}; use one of: {', '.join(options)}")


def at_least(value: int | float | None, minimum: int | float, flag: str) -> None:
    if value is not None and value < minimum:
        raise CnnvizError(f"{flag} must be at least {minimum:g}")


def confidence(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise CnnvizError(f"--confidence {value} must be between 0 and 1 (exclusive), e.g. 0.999")
    return value


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError as exc:
        raise CnnvizError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None


def model_spec(spec: str) -> str:
    """A model name is checked by the loader; a model *file* is checked here, before Keras starts:
    it exists, it is not an image, and it is a zip (.keras) or HDF5 (.h5) file."""
    p = Path(spec)
    if p.suffix.lower() in IMAGE_SUFFIXES:
        raise CnnvizError(f"{spec!r} is an image, not a model; give a model (lenet, vgg16, a .keras/.h5 file) "
                          f"and the image as IMAGE")
    if p.suffix.lower() not in MODEL_SUFFIXES and not p.is_file():
        return spec  # a name: the loader knows the names and suggests the nearest
    if not p.is_file():
        raise CnnvizError(f"model file {spec!r} does not exist; give a .keras or .h5 model, or a name such as lenet")
    head = _magic(p)
    if head.startswith(b"PK"):
        import zipfile

        try:
            with zipfile.ZipFile(p) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise CnnvizError(f"{spec!r} is a damaged .keras file (its zip archive cannot be read: {exc}); "
                              f"save the model again") from None
        if "config.json" not in names:
            raise CnnvizError(f"{spec!r} is a zip archive without config.json, not a Keras model; save it with model.save('x.keras')")
        return spec
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return spec
    if head.startswith(b"\x89PNG") or head[:3] == b"\xff\xd8\xff":
        raise CnnvizError(f"{spec!r} is an image, not a model; give a model (lenet, vgg16, a .keras/.h5 file) and the image as IMAGE")
    raise CnnvizError(f"{spec!r} is not a Keras model file (a .keras file is a zip archive, an .h5 file is HDF5); "
                      f"it may be truncated or of another format")


def image_file(path: str | Path | None) -> None:
    """An input image exists and is a file (its decoding is checked when it is read, before Keras)."""
    if path is None:
        return
    p = Path(path)
    if p.suffix.lower() in MODEL_SUFFIXES:
        raise CnnvizError(f"{str(p)!r} is a model file, not an image; give it as MODEL (or --model)")
    if not p.is_file():
        raise CnnvizError(f"image file {str(p)!r} does not exist")


#: Input conventions ``--preprocess`` accepts (see cnnviz.inputs.preprocessing).
PREPROCESS_MODES = ("none", "unit", "caffe", "tf", "torch", "bgr")


def image_options(param: str | None, diversity: int, method: str | None = None) -> None:
    """``--param`` / ``--diversity`` (``param`` None: the method's default). The CLI calls this before
    Keras loads; visualize_filters and fool_from_noise call it again."""
    if param is not None and param not in PARAMS:
        raise CnnvizError(f"unknown --param {param!r}; use one of: {', '.join(PARAMS)}")
    if diversity < 1:
        raise CnnvizError(f"--diversity {diversity} must be at least 1 (pictures per filter/class)")
    if method == "classic" and param not in (None, "pixel"):
        raise CnnvizError("--method classic is the Keras blog's pixel recipe; drop --param or use --param pixel")
    if diversity > 1 and (param == "pixel" or method in ("classic", "fool")):
        raise CnnvizError("--diversity needs --param fourier or maco (not pixel, classic or fool)")


def atlas_diversity(k: int) -> int:
    """``cnnviz atlas --diversity``: 0 (off) or at least 2 (one picture is the visualisation itself)."""
    if k < 0 or k == 1:
        raise CnnvizError(f"--diversity {k}: use 0 (off) or 2 or more (pictures per filter on its page)")
    return k


def labels_option(labels: Path | str | None) -> None:
    """``--labels``: the word ``imagenet`` (the bundled ImageNet names) or a file of names."""
    if labels is not None and str(labels) != "imagenet":
        existing_file(labels, "labels file", "--labels")


def existing_file(path: Path | None, what: str, flag: str) -> None:
    if path is not None and not Path(path).is_file():
        raise CnnvizError(f"{what} {str(path)!r} ({flag}) does not exist")


def looks_like_model(token: str) -> bool:
    """For commands whose positionals are [MODEL] [IMAGE]: is ``token`` the model?"""
    p = Path(token)
    suffix = p.suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return True
    if suffix in IMAGE_SUFFIXES or p.exists() or any(ch in token for ch in "*?["):
        return False  # an image, a folder of images or a glob
    return True  # a bare word: a model name (the loader says if it is unknown)


def model_and_image(tokens: Sequence[str] | None, model_opt: str | None, default: str = "lenet") -> tuple[str, str | None]:
    """Positionals ``[MODEL] [IMAGE]`` (in either order) plus ``--model``: one model and one image at most."""
    models = [t for t in tokens or () if looks_like_model(t)]
    images = [t for t in tokens or () if not looks_like_model(t)]
    if len(images) > 1:
        raise CnnvizError(f"one image at a time: got {', '.join(map(repr, images))}")
    if model_opt is not None:
        models.append(model_opt)
    if len(set(models)) > 1:
        raise CnnvizError(f"two models given ({', '.join(map(repr, models))}); give one, as MODEL or --model "
                          f"(an image must exist as a file)")
    return (models[0] if models else default), (images[0] if images else None)


def model_and_images(tokens: Sequence[str] | None, model_opt: str | None, default: str = "lenet") -> tuple[str, list[str]]:
    """Positionals ``[MODEL] [IMAGE...]`` in any order plus ``--model``: one model, any number of images."""
    models = [t for t in tokens or () if looks_like_model(t)]
    images = [t for t in tokens or () if not looks_like_model(t)]
    if model_opt is not None:
        models.append(model_opt)
    if len(set(models)) > 1:
        raise CnnvizError(f"two models given ({', '.join(map(repr, models))}); give one, as MODEL or --model "
                          f"(an image must exist as a file)")
    return (models[0] if models else default), images


def one_model(positional: str | None, option: str | None, default: str = "lenet") -> str:
    """MODEL as a positional or ``--model``: both forms work everywhere."""
    if positional is not None and option is not None and positional != option:
        raise CnnvizError(f"two models given ({positional!r} and --model {option!r}); give one")
    return positional or option or default
