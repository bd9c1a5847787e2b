"""cnnviz: see what a Keras CNN has learned.

``import cnnviz as cv``, then on a ``keras.Model`` (built or trained in the session), a model file or a
name: ``cv.layers``, ``cv.filters``, ``cv.fool``, ``cv.activations``, ``cv.cam``, ``cv.edges``,
``cv.kernels``, ``cv.atlas``; ``cv.load`` for the loaded wrapper; ``cv.callbacks`` to watch training.
Every result shows itself in a notebook and ``.save(folder)``s the CLI's PNG + JSON manifest.

Importing the package is cheap: Keras (and TensorFlow) load when a job first needs them.
"""

from .api import activations, atlas, cam, edges, filters, fool, kernels, layers, load
from .version import __version__

__all__ = ["__version__", "activations", "atlas", "callbacks", "cam", "edges", "filters", "fool", "kernels", "layers", "load"]


def __getattr__(name: str):
    if name == "callbacks":  # Keras callbacks: importing them loads Keras, so only on first use
        import importlib

        return importlib.import_module(".callbacks", __name__)
    raise AttributeError(f"module 'cnnviz' has no attribute {name!r}")
