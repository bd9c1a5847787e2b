"""cnnviz: see what a Keras CNN has learned.

Importing the package is cheap: TensorFlow is imported only by the modules that need it
(``cnnviz.models``, ``cnnviz.engine`` and the feature modules), never by ``cnnviz.cli`` at start-up,
``cnnviz.pixels``, ``cnnviz.output`` or ``cnnviz.plotting``.
"""

__version__ = "0.1.0"
