"""xplique's MACO (Fel et al. 2023, "Unlocking Feature Visualization for Deeper Networks with MAgnitude
Constrained Optimization") on a cnnviz model: class pictures from the authors' own implementation, to set
beside cnnviz's.

xplique is not a cnnviz dependency: it pins ``tensorflow<=2.20`` and pulls scikit-learn, scikit-image and
tensorflow-probability. Install it apart, never into the project's environment::

    pip install --target /tmp/xq --no-deps xplique deprecated
    PYTHONPATH=/tmp/xq python benchmarks/xplique_maco.py --classes 285 1 --steps 128 --crops 8

Only ``xplique.features_visualizations`` is imported (it needs TensorFlow, NumPy and ``deprecated``);
xplique's package ``__init__`` would import its attribution and concept modules and their dependencies,
so it is skipped. Runs on the TensorFlow backend only (xplique differentiates with ``tf.GradientTape``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import types
from pathlib import Path

import numpy as np

#: xplique's pixel range for the parametrised picture; the wrapper maps it to 0-255 pixels, then the
#: model's own preprocessing (for a ``tf`` model such as EfficientNet-Lite the two maps cancel out)
VALUES = (-1.0, 1.0)


def features_visualizations(path: str | None = None):
    """``xplique.features_visualizations`` without xplique's package ``__init__``; a clear exit when absent."""
    if "xplique" not in sys.modules:
        roots = [Path(p) for p in ([path] if path else sys.path) if p]
        root = next((r / "xplique" for r in roots if (r / "xplique" / "features_visualizations").is_dir()), None)
        if root is None:
            sys.exit("error: xplique not found; pip install --target /tmp/xq --no-deps xplique deprecated, "
                     "then PYTHONPATH=/tmp/xq")
        stub = types.ModuleType("xplique")
        stub.__path__ = [str(root)]
        sys.modules["xplique"] = stub
    return importlib.import_module("xplique.features_visualizations")


def class_model(loaded):
    """A functional Keras model: picture in xplique's range -> the class logits, as layer ``class_logits``
    (xplique's objectives need a layer of the outer graph)."""
    import keras

    from cnnviz.inputs.preprocessing import to_model_input
    from cnnviz.models.submodels import logits_model

    logits, _ = logits_model(loaded)
    lo, hi = VALUES
    mode = loaded.preprocess
    h, w = loaded.image_size()
    inputs = keras.Input((h, w, loaded.channels), name="picture")
    x = keras.layers.Lambda(lambda t: to_model_input((t - lo) * (255.0 / (hi - lo)), mode), name="preprocess")(inputs)
    return keras.Model(inputs, keras.layers.Activation("linear", name="class_logits")(logits(x)))


def to_uint8(picture: np.ndarray) -> np.ndarray:
    lo, hi = VALUES
    return np.clip(np.round((np.asarray(picture) - lo) * (255.0 / (hi - lo))), 0, 255).astype("uint8")


def run(model, class_ids, steps: int = 128, crops: int = 8, *, shape: tuple[int, int] | None = None,
        seed: int = 0, times: list[float] | None = None) -> tuple[np.ndarray, float]:
    """MACO class pictures with xplique: (uint8 pictures (n, H, W, 3), mean seconds per class).

    ``model``: a cnnviz name (``efficientnet-lite0``), a :class:`cnnviz.models.LoadedModel` or a Keras
    classifier (its class logits are maximised, as cnnviz does). ``shape``: the optimised picture's size
    (default: the model's input size; xplique's own default is 512x512, cropped to the input). xplique's
    other settings are its defaults (Nadam(1.0), noise 0.08, crops from 50% to 5% of the picture).
    Each class is its own objective, so each pays one ``tf.function`` trace (included in the time);
    ``times`` receives the seconds of every class."""
    import keras
    import tensorflow as tf

    from cnnviz.models import LoadedModel, load_model, wrap_model

    if keras.backend.backend() != "tensorflow":
        sys.exit("error: xplique needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    fv = features_visualizations()
    if isinstance(model, str):
        loaded = load_model(model, include_top=True)
    else:
        loaded = model if isinstance(model, LoadedModel) else wrap_model(model)
    net = class_model(loaded)
    shape = tuple(shape or loaded.image_size())
    pictures, spent = [], []
    for i, c in enumerate(class_ids):
        np.random.seed(seed + i)  # xplique draws the starting phase with NumPy, the crops with TensorFlow
        tf.random.set_seed(seed + i)
        start = time.perf_counter()
        image, _ = fv.maco(fv.Objective.neuron(net, "class_logits", int(c)), nb_steps=int(steps), nb_crops=int(crops),
                           values_range=VALUES, custom_shape=shape)
        spent.append(time.perf_counter() - start)
        pictures.append(to_uint8(image))
    if times is not None:
        times.extend(spent)
    return np.stack(pictures), float(np.mean(spent)) if spent else 0.0


def judge(pictures: np.ndarray, class_ids, judges) -> list[str]:
    """How each network classifies the whole pictures and their centre halves: MACO's late crops are
    small boxes near the centre, so the border stays unoptimised texture that can outvote the class."""
    from cnnviz.models import Classifier, load_model

    lines = []
    for name in judges:
        clf = Classifier(load_model(name, include_top=True))
        for part, frac in (("whole", 1.0), ("centre half", 0.5)):
            h, w = pictures.shape[1:3]
            a, b = round(h * (1 - frac) / 2), round(w * (1 - frac) / 2)
            probs = clf.probabilities(clf.fitted(np.ascontiguousarray(pictures[:, a:h - a, b:w - b])))
            for c, p in zip(class_ids, probs):
                lines.append(f"  {name} on the {part}: class {c} p={p[c]:.3f}, rank {int((p > p[c]).sum()) + 1}; "
                             f"top-1 {clf.name(int(p.argmax()))} p={p.max():.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="efficientnet-lite0")
    ap.add_argument("--classes", type=int, nargs="+", default=[285, 1])
    ap.add_argument("--steps", type=int, default=128)
    ap.add_argument("--crops", type=int, default=8)
    ap.add_argument("--judge", default="efficientnet-lite2", help="a network that took no part in making them")
    ap.add_argument("--shape", type=int, help="the optimised picture's side (default: the model's input; xplique's: 512)")
    ap.add_argument("--save", type=Path, help="write the pictures as PNG here")
    args = ap.parse_args()
    times: list[float] = []
    pictures, per_class = run(args.model, args.classes, args.steps, args.crops, times=times,
                              shape=(args.shape, args.shape) if args.shape else None)
    print(f"xplique MACO on {args.model}: {args.steps} steps x {args.crops} crops, {per_class:.1f} s per class "
          f"(each: {', '.join(f'{t:.1f}' for t in times)})")
    for line in judge(pictures, args.classes, dict.fromkeys((args.model, args.judge))):
        print(line)
    if args.save:
        import cv2

        args.save.mkdir(parents=True, exist_ok=True)
        for c, p in zip(args.classes, pictures):
            cv2.imwrite(str(args.save / f"xplique_maco_class{c}.png"), p[..., ::-1])


if __name__ == "__main__":
    main()
