"""Snapshot callbacks (cnnviz.callbacks): a series per epoch, and training exactly as without them."""

from __future__ import annotations

import json
import random
import sys

import numpy as np
import pytest

from cnnviz.errors import CnnvizError

STEPS = 16  # filter pictures: a few steps are enough to compare numbers


def _digits(n: int = 256):
    """``n`` training digits in [0, 1]: the bundled MNIST digits, shifted and noised (seeded)."""
    from cnnviz.models.lenet import sample_digits

    x, y = sample_digits()
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(x), n)
    shifts = rng.integers(-2, 3, (n, 2))
    out = np.stack([np.roll(x[i], tuple(s), (0, 1)) for i, s in zip(idx, shifts)]).astype("float32") / 255
    out = np.clip(out + rng.normal(0, 0.05, out.shape), 0, 1).astype("float32")
    return out, y[idx].astype("int32"), x[:2]


def _model():
    """Conv -> BatchNorm -> ReLU -> pool -> conv -> Dropout -> softmax: BatchNorm statistics and dropout
    masks would both move if a snapshot ran the model in training mode."""
    import keras

    L = keras.layers
    inputs = keras.Input((28, 28, 1))
    h = L.Conv2D(6, 3, padding="same", name="conv1")(inputs)
    h = L.Activation("relu")(L.BatchNormalization(name="bn1")(h))
    h = L.Conv2D(8, 3, activation="relu", name="conv2")(L.MaxPooling2D(2)(h))
    h = L.Dropout(0.5, name="drop")(L.Flatten()(h))
    model = keras.Model(inputs, L.Dense(10, activation="softmax", name="out")(h), name="tinynet")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _global_draws():
    """One draw from every global stream training could share: Python, NumPy, Keras, TensorFlow."""
    import keras

    draws = [random.random(), float(np.random.random()), keras.ops.convert_to_numpy(keras.random.uniform((2,))).tolist()]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        draws.append(tf.random.uniform((2,)).numpy().tolist())
    return draws


def _train(callbacks=None, epochs: int = 3):
    import keras

    x, y, _ = _digits()
    keras.utils.set_random_seed(0)
    model = _model()
    history = model.fit(x, y, epochs=epochs, batch_size=32, shuffle=True, verbose=0, callbacks=callbacks)
    return model, history.history, _global_draws()


def _all_three(folder, images, labels):
    from cnnviz import callbacks as cb

    return [cb.FilterSnapshots("conv1", every=1, folder=folder, steps=STEPS, preprocess="unit"),
            cb.ActivationSnapshots("conv1", images, folder=folder, preprocess="unit"),
            cb.HeatmapSnapshots(images, labels, folder=folder, layer="conv2", preprocess="unit")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same seeded training without and with the three callbacks."""
    from cnnviz.models.lenet import sample_digits

    folder = tmp_path_factory.mktemp("snaps")
    _, labels = sample_digits()
    _, _, images = _digits()
    plain = _train()
    watched = _train(_all_three(folder, images, [int(c) for c in labels[:2]]))
    return plain, watched, folder, images


@pytest.mark.slow
def test_callbacks_leave_training_unchanged(runs):
    (m0, h0, d0), (m1, h1, d1), _, _ = runs
    assert h1 == h0  # exactly: every loss and accuracy of every epoch
    for a, b in zip(m0.get_weights(), m1.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # weights, BatchNorm moving statistics, optimizer-free
    assert d1 == d0  # the global random streams end where they would have without the callbacks


@pytest.mark.slow
def test_series_manifest_and_gif(runs):
    from PIL import Image

    *_, folder, _ = runs
    for stem in ("filters_conv1", "activations_conv1", "gradcam"):
        record = json.loads((folder / f"{stem}.json").read_text())
        assert [s["epoch"] for s in record["snapshots"]] == [1, 2, 3]
        assert [s["file"] for s in record["snapshots"]] == [f"{stem}_epoch{e:03d}.png" for e in (1, 2, 3)]
        assert record["gif"] == f"{stem}.gif" and record["every"] == 1
        frames = []
        with Image.open(folder / f"{stem}.gif") as gif:
            assert gif.n_frames == 3
            for k in range(3):
                gif.seek(k)
                frames.append(np.asarray(gif.convert("RGB")))
        for s, frame in zip(record["snapshots"], frames):
            with Image.open(folder / s["file"]) as png:
                h, w = png.size[1], png.size[0]
            assert frame.shape[:2] >= (h, w)
        assert not np.array_equal(frames[0], frames[2])  # the series moves (title, pictures)


@pytest.mark.slow
def test_snapshot_numbers_equal_direct_calls(runs):
    """The last snapshot's numbers equal the library function / a plain forward pass on the final weights."""
    import keras

    from cnnviz.methods.filters import visualize_filters
    from cnnviz.models import LoadedModel

    _, (model, _, _), folder, images = runs
    last = {stem: json.loads((folder / f"{stem}.json").read_text())["snapshots"][-1]
            for stem in ("filters_conv1", "activations_conv1", "gradcam")}
    direct = visualize_filters(LoadedModel(model, "tinynet", "unit"), "conv1", steps=STEPS)
    assert [t["activation"] for t in last["filters_conv1"]["filters"]] == [float(a) for a in direct.activations]
    conv1 = keras.Model(model.input, model.get_layer("conv1").output)
    x = images.astype("float32") / 255
    means = np.asarray(conv1(x)).mean(axis=(1, 2))
    got = np.array([d["channel_means"] for d in last["activations_conv1"]["images"]])
    np.testing.assert_allclose(got, means, rtol=1e-5, atol=1e-6)
    probs = np.asarray(model(x, training=False))
    for d in last["gradcam"]["images"]:
        assert d["probability"] == pytest.approx(float(probs[d["image"], d["class"]]), rel=1e-5)


@pytest.mark.backends
def test_every_n_at_start_and_a_second_fit_continues_the_count(tmp_path, digits):
    import keras

    from cnnviz.callbacks import ActivationSnapshots

    x, y, _ = _digits(64)
    keras.utils.set_random_seed(0)
    model = _model()
    snaps = ActivationSnapshots("conv1", digits[0][:1], every=2, folder=tmp_path, preprocess="unit", at_start=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[snaps])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[snaps])  # no initial_epoch: epochs 5 and 6
    record = json.loads((tmp_path / "activations_conv1.json").read_text())
    assert [s["epoch"] for s in record["snapshots"]] == [0, 2, 4, 6]  # epoch 0: before the first fit only
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [f"activations_conv1_epoch00{e}.png" for e in (0, 2, 4, 6)]
    assert record["preprocess"] == "unit"
    # the last snapshot (end of epoch 6) holds the trained model's conv1 channel means on the image, pixels / 255
    sub = keras.Model(model.inputs[0], model.get_layer("conv1").output)
    acts = np.asarray(sub(digits[0][:1].astype("float32") / 255.0))[0]
    np.testing.assert_allclose(record["snapshots"][-1]["images"][0]["channel_means"], acts.mean(axis=(0, 1)), rtol=1e-5, atol=1e-6)
    # without preprocess= the model is fed as cv.load feeds it (pixels / 255 here), and the manifest says so
    default = ActivationSnapshots("conv1", digits[0][:1], folder=tmp_path / "d")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[default])
    assert json.loads((tmp_path / "d" / "activations_conv1.json").read_text())["preprocess"] == "unit"


@pytest.mark.backends
def test_refusals_before_training(tmp_path, digits, monkeypatch):
    import keras

    from cnnviz.callbacks import ActivationSnapshots, FilterSnapshots, HeatmapSnapshots

    (tmp_path / "filters_conv1_epoch001.png").write_bytes(b"x")
    with pytest.raises(CnnvizError, match="already exists; pass overwrite=True"):
        FilterSnapshots("conv1", folder=tmp_path)
    FilterSnapshots("conv1", folder=tmp_path, overwrite=True)
    with pytest.raises(CnnvizError, match="every=0"):
        FilterSnapshots("conv1", every=0, folder=tmp_path / "a")
    with pytest.raises(CnnvizError, match="one class per image"):
        HeatmapSnapshots(digits[0][:2], [1], folder=tmp_path / "a")
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    with pytest.raises(CnnvizError, match=r"pip install 'cnnviz\[tensorboard\]'"):
        FilterSnapshots("conv1", folder=tmp_path / "a", tensorboard_dir=tmp_path / "tb")
    x, y, _ = _digits(32)
    epochs_started = []
    count = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_started.append(epoch))
    for bad, message in ((FilterSnapshots("bn1", folder=tmp_path / "b"), "not convolutional"),
                         (ActivationSnapshots("conv1", np.zeros((2, 32, 32, 1), "uint8"), folder=tmp_path / "b"),
                          "resize the fixed images")):
        with pytest.raises(CnnvizError, match=message):
            keras.utils.set_random_seed(0)
            _model().fit(x, y, epochs=1, verbose=0, callbacks=[bad, count])
    assert epochs_started == [] and not (tmp_path / "b").exists()  # refused before the first epoch
    gone = ActivationSnapshots("conv1", digits[0][:1], folder=tmp_path / "c", at_start=True)
    (tmp_path / "c").write_bytes(b"")  # the folder became a file after the check
    with pytest.raises(CnnvizError, match="cannot write .*choose another folder"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[gone])


def test_tensorboard_events(tmp_path, digits):
    pytest.importorskip("tensorboard")
    import keras
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from cnnviz.callbacks import ActivationSnapshots

    x, y, _ = _digits(32)
    keras.utils.set_random_seed(0)
    snaps = ActivationSnapshots("conv1", digits[0][:1], folder=tmp_path, preprocess="unit", tensorboard_dir=tmp_path / "tb")
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[snaps])
    events = EventAccumulator(str(tmp_path / "tb")).Reload()
    assert [e.step for e in events.Images("activations_conv1")] == [1, 2]
    record = json.loads((tmp_path / "activations_conv1.json").read_text())
    scalars = events.Scalars("activations_conv1/image0/channel3")
    assert [s.value for s in scalars] == pytest.approx([s["images"][0]["channel_means"][3] for s in record["snapshots"]])


@pytest.mark.backends
def test_preserved_random_state_gives_back_every_stream():
    """Draws inside the block leave the next draws of every global stream as if it had not run."""
    import keras

    from cnnviz.backends.runtime import preserved_random_state

    keras.utils.set_random_seed(3)
    _global_draws()
    expected = _global_draws()
    keras.utils.set_random_seed(3)
    _global_draws()
    with preserved_random_state():
        _global_draws()
        _global_draws()
    assert _global_draws() == expected


def _npz(path, n=200):
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.integers(0, 255, (n, 28, 28)).astype("uint8"), y=rng.integers(0, 10, n))
    return path


@pytest.mark.slow
def test_train_lenet_snapshots_cli(tmp_path):
    """`cnnviz train --snapshots`: conv1 and conv2 every 2 epochs, and the same model as without them."""
    import keras
    from typer.testing import CliRunner

    from cnnviz.cli import app

    data = _npz(tmp_path / "d.npz")

    def train(*extra):
        return CliRunner().invoke(app, ["train", "lenet", "--data", str(data), "--epochs", "4", *map(str, extra)])

    r = train("--out", tmp_path / "plain.keras")
    assert r.exit_code == 0, r.output
    r = train("--out", tmp_path / "watched.keras", "--snapshots", tmp_path / "s", "--snapshot-every", "2")
    assert r.exit_code == 0, r.output
    for layer in ("conv1", "conv2"):
        record = json.loads((tmp_path / "s" / f"filters_{layer}.json").read_text())
        assert [s["epoch"] for s in record["snapshots"]] == [0, 2, 4] and record["every"] == 2
        assert record["training"]["command"] == "train lenet" and record["gif"] == f"filters_{layer}.gif"
    plain, watched = (keras.saving.load_model(tmp_path / f"{k}.keras") for k in ("plain", "watched"))
    for a, b in zip(plain.get_weights(), watched.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    again = train("--out", tmp_path / "again.keras", "--snapshots", tmp_path / "s")
    assert again.exit_code == 1 and "already exists; pass overwrite=True (--overwrite)" in again.output
    assert not (tmp_path / "again.keras").exists()
    bad = train("--out", tmp_path / "x.keras", "--snapshot-every", "2")
    assert bad.exit_code == 1 and "--snapshot-every needs --snapshots DIR" in bad.output
