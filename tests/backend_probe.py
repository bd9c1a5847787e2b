"""Run by tests/test_engine_backends.py in a fresh process with KERAS_BACKEND set: checks the engine's
gradients on a tiny model against finite differences and hand values, and prints one JSON line."""

import json
import sys

import numpy as np


def tiny():
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((6, 6, 2))
    maps = keras.layers.Conv2D(3, 3, padding="same", activation="tanh", name="c")(inp)
    pooled = keras.layers.GlobalAveragePooling2D()(maps)
    logits = keras.layers.Dense(4, name="d")(pooled)
    return keras.Model(inp, [logits, maps]), keras.Model(inp, logits)


def main() -> None:
    import keras
    from keras import ops

    from cnnviz.optvis import (
        Ascent,
        Stage,
        UpdateRule,
        input_gradients,
        layer_gradients,
    )
    from cnnviz.optvis.objectives import channel
    from cnnviz.optvis.param import Fourier

    imported = "tensorflow" in sys.modules  # before keras.utils.set_random_seed, which imports it itself
    both, head = tiny()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 6, 2)).astype("float32")
    pick = lambda logits: logits[:, 1]
    grads, scores = input_gradients(head, x, pick)
    out = {"backend": keras.backend.backend(), "tensorflow_imported": imported}
    # central differences of the score at 6 coordinates of image 1
    fd, an = [], []
    for idx in [(1, 0, 0, 0), (1, 2, 3, 1), (1, 5, 5, 0), (1, 3, 1, 1), (0, 4, 2, 0), (0, 1, 1, 1)]:
        e = np.zeros_like(x)
        e[idx] = 1e-2
        plus = ops.convert_to_numpy(head(x + e))[:, 1]
        minus = ops.convert_to_numpy(head(x - e))[:, 1]
        fd.append(float((plus - minus)[idx[0]] / 2e-2))
        an.append(float(grads[idx]))
    out["fd"], out["analytic"] = fd, an
    out["scores_match"] = bool(np.allclose(scores, ops.convert_to_numpy(head(x))[:, 1], atol=1e-5))
    # d logit_1 / d maps = W[:, 1] / (H W) everywhere (GAP then Dense): a hand value
    maps, mgrads, logits = layer_gradients(both, x, pick)
    w = ops.convert_to_numpy(both.get_layer("d").kernel)[:, 1] / 36.0
    out["map_grad_err"] = float(np.abs(mgrads - w).max())
    out["maps_ok"] = bool(np.allclose(maps, ops.convert_to_numpy(both(x)[1]), atol=1e-5))
    # one compiled sign step on a linear 1x1 conv: pixels move by lr * sign(kernel) (unit preprocessing)
    inp = keras.Input((None, None, 2))
    lin = keras.layers.Conv2D(2, 1, use_bias=False, name="lin")(inp)
    fm = keras.Model(inp, lin)
    fm.get_layer("lin").set_weights([np.array([[[[0.5, -1.0], [-2.0, 0.25]]]], "float32")])
    x0 = np.full((2, 4, 4, 2), 100.0, "float32")
    for rule in ("sign", "adam"):
        asc = Ascent(fm, ["lin"], channel("lin"), "unit", rule=UpdateRule(rule, clip=True))
        x1, s, n = asc.run(x0, np.array([0, 1]), [Stage((4, 4), 1, 3.0)], [np.random.default_rng(i) for i in range(2)])
        expect = 100.0 + 3.0 * np.sign(np.array([[0.5, -2.0], [-1.0, 0.25]]))  # image k follows output channel k
        out[f"{rule}_step_err"] = float(np.abs(x1 - expect[:, None, None, :]).max())
    # a Fourier-parametrised ascent runs and raises its objective
    inp = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(2, 3, name="k")(inp)
    fm3 = keras.Model(inp, conv)
    par = Fourier()
    asc = Ascent(fm3, ["k"], channel("k"), "unit", rule=UpdateRule("adam", clip=False), param=par)
    p0 = np.stack([par.init(np.random.default_rng(i), 12, 12, 3) for i in range(2)])
    before = asc.score(asc.image(p0, (12, 12)), np.array([0, 1]))
    img, s, n = asc.run(p0, np.array([0, 1]), [Stage((12, 12), 5, 0.05)], [np.random.default_rng(i) for i in range(2)],
                        size=(12, 12))
    out["fourier_rises"] = bool((asc.score(img, np.array([0, 1])) > before).all())
    out["fourier_range"] = [float(img.min()), float(img.max())]
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
