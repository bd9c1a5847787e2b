"""The one batch driver (cnnviz.optvis.driver) and recipes as objects (cnnviz.optvis.recipes): one
seeding convention, default_rng([seed, target, k]), whatever the batch size, the devices or the
other targets; device padding dropped; progress; out-of-memory halving; Ctrl-C keeps what finished."""

import keras
import numpy as np
import pytest

from cnnviz.optvis.driver import drive, picture_rng


def _first_draws(seed, targets, **options):
    """drive() with a batch function that returns each row's (target, copy, first draw of its stream)."""
    batches = []

    def optimise(batch):
        batches.append((len(batch.positions), batch.count))
        return [(int(t), k, r.uniform()) for t, k, r in zip(batch.targets, batch.copies, batch.rngs)]

    return drive(targets, optimise, seed=seed, steps=1, **options), batches


def test_each_picture_draws_from_seed_target_copy():
    made, _ = _first_draws(7, [4, 1, 9], batch_size=4, copies=2)
    assert list(zip(made.targets, made.copies)) == [(4, 0), (4, 1), (1, 0), (1, 1), (9, 0), (9, 1)]
    expected = [np.random.default_rng([7, t, k]).uniform() for t, k in zip(made.targets, made.copies)]
    assert [o[2] for o in made.outputs] == expected  # by hand: numpy's own stream for [seed, target, k]
    assert [o[:2] for o in made.outputs] == list(zip(made.targets, made.copies))
    assert picture_rng(7, 4, 1).uniform() == expected[1]
    assert len(set(expected)) == 6  # the copies of a target differ, and so do the targets


def test_a_single_picture_keeps_the_stream_of_earlier_releases():
    """Same --seed, same bytes: filters and fooling images drew from [seed, target] before the driver;
    numpy's SeedSequence pads short entropy with zeros, so [seed, target, 0] is that very stream."""
    for seed, target in ((3, 5), (0, 0), (12345, 999)):
        old = np.random.default_rng([seed, target]).uniform(-10, 10, 32)
        np.testing.assert_array_equal(picture_rng(seed, target).uniform(-10, 10, 32), old)


def test_the_stream_does_not_depend_on_batches_devices_or_the_other_targets():
    alone, _ = _first_draws(3, [5], batch_size=16)
    for options in (dict(batch_size=1), dict(batch_size=2), dict(batch_size=3, devices=2)):
        made, _ = _first_draws(3, [0, 2, 5, 8], **options)
        assert made.outputs[2] == alone.outputs[0], options


def test_batches_are_padded_for_the_devices_and_the_padding_dropped():
    made, batches = _first_draws(0, [0, 1, 2, 3, 4], batch_size=3, devices=2)
    assert batches == [(4, 4), (2, 1)]  # 3 rounded up to 4 per batch; the last single target padded to 2
    assert made.targets == [0, 1, 2, 3, 4] and not made.partial


def test_progress_counts_every_picture_once():
    ticks = []

    def optimise(batch):
        for d in (1, 2):
            batch.report(d, 2)
        return [0] * len(batch.positions)

    drive([0, 1, 2], optimise, seed=0, steps=2, batch_size=2, progress=lambda d, t: ticks.append((d, t)))
    assert ticks == [(2, 6), (4, 6), (5, 6), (6, 6)]  # 2 steps x 3 pictures; the second batch (1 picture) starts at 4


def test_out_of_memory_halves_the_batch_and_ctrl_c_keeps_what_finished():
    notes, seen = [], []

    def optimise(batch):
        seen.append(batch.count)
        if batch.count > 2:
            raise RuntimeError("RESOURCE_EXHAUSTED: out of memory")
        if len(seen) == 4:
            raise KeyboardInterrupt
        return list(batch.targets)

    made = drive(list(range(8)), optimise, seed=0, steps=1, batch_size=4, note=notes.append)
    assert seen == [4, 2, 2, 2] and len(notes) == 1 and "retrying with 2" in notes[0]
    assert made.partial and made.targets == [0, 1, 2, 3] and made.outputs == [0, 1, 2, 3]
    def interrupted(batch):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # nothing finished: nothing to keep
        drive([0], interrupted, seed=0, steps=1, batch_size=1)


def _tiny_conv():
    from conftest import wrap

    keras.utils.set_random_seed(11)
    inp = keras.Input((12, 12, 3))
    return wrap(keras.Model(inp, keras.layers.Conv2D(4, 3, name="c")(inp)))


def test_render_starts_every_picture_from_its_own_stream():
    from cnnviz.optvis.objectives import channel
    from cnnviz.optvis.param import Pixel
    from cnnviz.optvis.recipes import Classic, Fourier
    from cnnviz.optvis.render import render

    loaded = _tiny_conv()
    start = render(loaded, channel("c"), Classic(steps=0), [3, 1], seed=5, size=(12, 12))  # zero steps: the start
    for picture, t in zip(start.pixels, [3, 1]):
        np.testing.assert_array_equal(picture, Pixel().init(np.random.default_rng([5, t, 0]), 12, 12, 3))
    plain = render(loaded, channel("c"), Fourier(steps=0), [3], seed=5)
    diverse = render(loaded, channel("c"), Fourier(steps=0), [3], seed=5, diversity=2)
    np.testing.assert_array_equal(diverse.pixels[0], plain.pixels[0])  # copy 0 is the picture without diversity
    assert np.abs(diverse.pixels[1] - diverse.pixels[0]).mean() > 0.1


@pytest.mark.parametrize("options", [dict(param="pixel"), dict(method="classic"), dict(param="fourier")])
def test_a_filter_picture_is_the_same_alone_or_in_any_batch(options):
    from cnnviz.methods.filters import visualize_filters

    loaded = _tiny_conv()
    together = visualize_filters(loaded, "c", [0, 1, 2], steps=4, seed=3, batch_size=3, **options)
    alone = visualize_filters(loaded, "c", [2], steps=4, seed=3, batch_size=1, **options)
    np.testing.assert_array_equal(together.images[2], alone.images[0])
    other_seed = visualize_filters(loaded, "c", [2], steps=4, seed=4, batch_size=1, **options)
    assert not np.array_equal(other_seed.images[0], alone.images[0])


def test_fool_pictures_are_the_same_alone_or_in_any_batch():
    from conftest import wrap

    from cnnviz.methods.fooling import fool_from_noise

    keras.utils.set_random_seed(12)
    inp = keras.Input((10, 10, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(3, 3, activation="relu")(inp))
    loaded = wrap(keras.Model(inp, keras.layers.Dense(4, activation="softmax")(x)))
    options = dict(confidence=0.9999, max_steps=20, seed=2)
    together = fool_from_noise(loaded, [0, 3, 1], batch_size=3, **options)
    alone = fool_from_noise(loaded, [1], batch_size=1, **options)
    np.testing.assert_array_equal(together.images[2], alone.images[0])
    assert together.steps[2] == alone.steps[0]


def test_recipes_are_named_in_one_place():
    from cnnviz.errors import CnnvizError
    from cnnviz.optvis.ascent import Stage
    from cnnviz.optvis.recipes import CLASS_STEPS, Classic, Fool, Fourier, Pixel, recipe

    assert isinstance(recipe("classic", "pixel"), Classic) and recipe("classic", "pixel").steps == 20
    assert isinstance(recipe("fool", "pixel"), Fool) and recipe("fool", "pixel", 50).steps == 50
    assert isinstance(recipe("visualize", "pixel"), Pixel)
    filters, classes = recipe("smooth", "fourier"), recipe("visualize", "fourier")
    assert isinstance(filters, Fourier) and filters.revive is not None and classes.steps == CLASS_STEPS
    # the Fourier filter schedule: 80% of 15 steps at half size on an any-size model, one stage when fixed
    assert filters.schedule((128, 128), False) == [Stage((64, 64), 12, 0.08), Stage((128, 128), 3, 0.08)]
    assert filters.schedule((128, 128), True) == [Stage((128, 128), 15, 0.08)]
    assert [s.size for s in Pixel(steps=30).schedule((100, 100), False)] == [(50, 50), (70, 70), (100, 100)]
    with pytest.raises(CnnvizError, match="no recipe for --method classic with --param fourier"):
        recipe("classic", "fourier")
