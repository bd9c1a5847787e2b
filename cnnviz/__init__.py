"""cnnviz: see what a Keras CNN has learned.

Importing the package is cheap: TensorFlow is imported only by the modules that need it
(``cnnviz.models``, ``cnnviz.optvis``, ``cnnviz.methods``), never by ``cnnviz.cli`` at start-up,
``cnnviz.pixels``, ``cnnviz.output`` or ``cnnviz.results``.
"""

from .version import __version__

__all__ = ["__version__"]
