"""Run by tests/test_distribution.py on JAX (a fresh process; XLA_FLAGS may force host devices):
filters of LeNet conv2 and fooling images of three classes, saved to OUT.npz with the number of
devices each compiled step's image batch was laid out over."""

import sys

import numpy as np


def main(out: str) -> None:
    from cnnviz.optvis import Ascent

    shards: list[int] = []
    real = Ascent._step

    def spy(self, *args):
        step = real(self, *args)

        def step_seen(params, *rest):
            shards.append(len(params.sharding.device_set))
            return step(params, *rest)

        return step_seen

    Ascent._step = spy
    from cnnviz.backends.distribution import device_count
    from cnnviz.methods.filters import visualize_filters
    from cnnviz.methods.fooling import fool_from_noise
    from cnnviz.models import load_model

    lenet = load_model("lenet")
    filt = visualize_filters(lenet, "conv2", list(range(5)), steps=8, seed=1, batch_size=5)
    fool = fool_from_noise(lenet, [3, 5, 8], confidence=0.9, max_steps=30, seed=2)
    np.savez(out, filters=filt.images, fool=fool.images, shards=np.array(sorted(set(shards))),
             devices=device_count())
    print("DONE")


if __name__ == "__main__":
    main(sys.argv[1])
