"""Reference values for cnnviz.optvis.objectives beyond tests/test_filters.py: each objective on random
activations against numpy (per-image targets, top-k, log-probabilities, total variation, the centre neuron,
a direction, lucid's diversity term with lone images), the algebra of objectives and their descriptions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from cnnviz.optvis import objectives as O

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4, 5, 6)).astype("float32")  # (B, H, W, C), H != W
LOGITS = (RNG.normal(size=(3, 5)) * 3).astype("float32")
PIX = RNG.uniform(0, 255, size=(3, 4, 5, 3)).astype("float32")
TARGETS = np.array([4, 0, 2])


def _acts():
    return {"l": ops.convert_to_tensor(A), "logits": ops.convert_to_tensor(LOGITS), "pixels": ops.convert_to_tensor(PIX)}


def _run(obj: O.Objective, targets=TARGETS) -> np.ndarray:
    return ops.convert_to_numpy(obj(_acts(), ops.convert_to_tensor(np.asarray(targets, "int32"))))


def test_channel_mean_top_share_and_per_image_targets():
    np.testing.assert_allclose(_run(O.channel("l", 3)), A[..., 3].mean(axis=(1, 2)), rtol=1e-5)
    per_image = A[np.arange(3), ..., TARGETS].reshape(3, -1)  # (3, 20): image i, channel TARGETS[i]
    np.testing.assert_allclose(_run(O.channel("l")), per_image.mean(axis=1), rtol=1e-5, atol=1e-6)
    # top 0.3 of 20 positions = the 6 largest; 0.01 -> at least one (the peak); 1.0 -> the mean
    np.testing.assert_allclose(_run(O.channel("l", top=0.3)), np.sort(per_image, axis=1)[:, -6:].mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(_run(O.channel("l", 2, top=0.01)), A[..., 2].reshape(3, -1).max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(_run(O.channel("l", 2, top=0.125)), np.sort(A[..., 2].reshape(3, -1))[:, -2:].mean(1),
                               rtol=1e-5)  # 20 * 0.125 = 2.5 rounds to 2
    # an already pooled layer (B, C): its value per image
    pooled = {"g": ops.convert_to_tensor(LOGITS)}
    np.testing.assert_allclose(ops.convert_to_numpy(O.channel("g")(pooled, ops.convert_to_tensor(TARGETS))),
                               LOGITS[np.arange(3), TARGETS])


def test_class_scores_against_numpy():
    np.testing.assert_allclose(_run(O.class_logit(1)), LOGITS[:, 1])
    np.testing.assert_allclose(_run(O.class_logit()), LOGITS[np.arange(3), TARGETS])
    logp = LOGITS - np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(_run(O.class_logprob()), logp[np.arange(3), TARGETS], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_run(O.class_logprob(2)), logp[:, 2], rtol=1e-5, atol=1e-5)
    logsig = np.log(1.0 / (1.0 + np.exp(-LOGITS)))
    np.testing.assert_allclose(_run(O.class_logsigmoid()), logsig[np.arange(3), TARGETS], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_run(O.class_logsigmoid(0)), logsig[:, 0], rtol=1e-5, atol=1e-5)


def test_total_variation_neuron_and_direction():
    tv = np.abs(np.diff(PIX, axis=1)).mean(axis=(1, 2, 3)) + np.abs(np.diff(PIX, axis=2)).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(_run(O.total_variation()), tv, rtol=1e-5)
    np.testing.assert_allclose(_run(O.neuron("l", 5)), A[:, 2, 2, 5])  # centre of 4 x 5: (2, 2)
    np.testing.assert_allclose(_run(O.neuron("l", 5, y=1, x=4)), A[:, 1, 4, 5])
    np.testing.assert_allclose(_run(O.neuron("l")), A[np.arange(3), 2, 2, TARGETS])
    np.testing.assert_allclose(_run(O.neuron("l", 0, y=3)), A[:, 3, 2, 0])
    np.testing.assert_allclose(_run(O.neuron("l", 0, x=0)), A[:, 2, 0, 0])
    tall = {"t": ops.convert_to_tensor(RNG.normal(size=(2, 6, 3, 2)).astype("float32"))}  # centre (3, 1)
    np.testing.assert_allclose(ops.convert_to_numpy(O.neuron("t", 1)(tall, None)), ops.convert_to_numpy(tall["t"])[:, 3, 1, 1])
    v = np.array([[0.5, -1.0, 0.0, 2.0, 0.25, -0.75]])  # any shape: flattened to the channel vector
    got = _run(O.direction("l", v))
    np.testing.assert_allclose(got, (A @ v[0]).mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32  # a float64 vector does not turn the float32 score into float64


def test_diversity_is_lucids_mean_cosine_of_centred_grams_within_a_group():
    a = RNG.normal(size=(5, 4, 3, 2)).astype("float32")  # H, W, C all different
    a = np.concatenate([a, RNG.normal(size=(1, 4, 3, 2)).astype("float32")])
    targets = np.array([1, 1, 7, 1, 2, 7])  # images 0, 1, 3 form a group, 2 and 5 a pair; 4 is alone
    got = ops.convert_to_numpy(O.diversity("d")({"d": ops.convert_to_tensor(a)}, ops.convert_to_tensor(targets)))
    flat = a.reshape(6, -1, 2)
    flat = flat - flat.mean(axis=1, keepdims=True)
    grams = np.einsum("bpi,bpj->bij", flat, flat).reshape(6, -1)
    grams = grams / np.linalg.norm(grams, axis=1, keepdims=True)
    sims = grams @ grams.T
    groups = {0: (1, 3), 1: (0, 3), 3: (0, 1), 2: (5,), 5: (2,), 4: ()}
    expect = [np.mean([sims[i, j] for j in groups[i]]) if groups[i] else 0.0 for i in range(6)]
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-6)
    assert min(abs(got[0]), abs(got[2])) > 0.05  # not a degenerate zero


def test_half_precision_activations_keep_their_dtype():
    """A mixed-precision model's float16 activations: the one-hot, the masks and the score stay float16."""
    a = RNG.normal(size=(3, 4, 3, 2)).astype("float16")
    t = ops.convert_to_tensor(np.array([1, 0, 1], "int32"))
    picked = O.channel("h")({"h": ops.convert_to_tensor(a)}, t)
    assert ops.convert_to_numpy(picked).dtype == np.float16
    np.testing.assert_allclose(ops.convert_to_numpy(picked), a[[0, 1, 2], ..., [1, 0, 1]].reshape(3, -1).mean(1),
                               rtol=2e-3, atol=2e-3)
    div = ops.convert_to_numpy(O.diversity("h")({"h": ops.convert_to_tensor(a)}, t))
    assert div.dtype == np.float16 and div[1] == 0 and abs(div[0] - div[2]) < 2e-3


def test_objective_algebra_and_descriptions():
    c, k = O.channel("l", 3), O.class_logit(1)
    base_c, base_k = _run(c), _run(k)
    np.testing.assert_allclose(_run(c + k), base_c + base_k, rtol=1e-6)
    np.testing.assert_allclose(_run(c - k), base_c - base_k, rtol=1e-6)
    np.testing.assert_allclose(_run(c + 2.5), base_c + 2.5, rtol=1e-6)
    np.testing.assert_allclose(_run(2.5 + c), base_c + 2.5, rtol=1e-6)
    np.testing.assert_allclose(_run(c - 2.5), base_c - 2.5, rtol=1e-6)
    np.testing.assert_allclose(_run(3 * c), 3 * base_c, rtol=1e-6)
    np.testing.assert_allclose(_run(c * 3), 3 * base_c, rtol=1e-6)
    np.testing.assert_allclose(_run(-c), -base_c, rtol=1e-6)
    # per-image objectives: every combination hands the targets on to both sides
    pc, pk = O.channel("l"), O.class_logit()
    np.testing.assert_allclose(_run(pc + pk), _run(pc) + _run(pk), rtol=1e-6)
    np.testing.assert_allclose(_run(pk + 1.0), _run(pk) + 1.0, rtol=1e-6)
    np.testing.assert_allclose(_run(2 * pk), 2 * _run(pk), rtol=1e-6)
    assert (c + k + c).layers == ("l", "logits") and (c - 2.5).layers == ("l",)
    assert repr(c + k) == "Objective(channel('l', 3) + class_logit(1))"
    assert repr(c + 2.5) == "Objective(channel('l', 3) + 2.5)"
    assert repr(c - 2.5) == "Objective(channel('l', 3) + -2.5)"
    assert repr(-k) == "Objective(-1 * (class_logit(1)))"
    assert repr(0.5 * c) == "Objective(0.5 * (channel('l', 3)))"


def test_channel_of_a_sequence_layer_and_of_symbolic_shapes():
    seq = RNG.normal(size=(2, 7, 3)).astype("float32")  # (B, T, C): a Conv1D's output
    got = ops.convert_to_numpy(O.channel("s", 1)({"s": ops.convert_to_tensor(seq)}, None))
    np.testing.assert_allclose(got, seq[..., 1].mean(axis=1), rtol=1e-6)
    with pytest.raises(ValueError, match=r"^channel\(top=\.\.\.\) needs static spatial shapes \(the engine traces per shape\)$"):
        O.channel("l", 1, top=0.5)({"l": keras.KerasTensor((None, None, None, 3))}, None)


# built inside the test (not at collection), so the mutation run maps each to the function that makes it
CASES = [(("channel", "l"), {}, "channel('l', per-image)"), (("channel", "l", 2), {"top": 0.25}, "channel('l', 2, top=0.25)"),
         (("channel", "l"), {"top": 1e-9}, "channel('l', per-image, peak)"),
         (("channel", "l"), {"top": 1e-6}, "channel('l', per-image, top=1e-06)"),
         (("class_logit",), {}, "class_logit(per-image)"), (("class_logit", 3), {}, "class_logit(3)"),
         (("class_logprob",), {}, "class_logprob(per-image)"), (("class_logprob", 4), {}, "class_logprob(4)"),
         (("class_logsigmoid",), {}, "class_logsigmoid(per-image)"), (("class_logsigmoid", 0), {}, "class_logsigmoid(0)"),
         (("total_variation",), {}, "total_variation()"), (("neuron", "l"), {}, "neuron('l', per-image, centre)"),
         (("neuron", "l", 2), {"y": 1}, "neuron('l', 2, y=1, x=None)"), (("neuron", "l", 2), {"x": 3}, "neuron('l', 2, y=None, x=3)"),
         (("direction", "l", [1, 2, 3]), {}, "direction('l', 3-vector)"), (("diversity", "l"), {}, "diversity('l')")]


@pytest.mark.parametrize("args,kwargs,text", CASES, ids=[c[2] for c in CASES])
def test_descriptions_and_layers(args, kwargs, text):
    obj = getattr(O, args[0])(*args[1:], **kwargs)
    assert obj.description == text
    reads = {"total_variation()": ("pixels",)}.get(text, ("logits",) if text.startswith("class") else ("l",))
    assert obj.layers == reads
