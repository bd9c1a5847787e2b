"""Models: loading (names, files, weights), layer lookup, and the sub-models the methods run.

Data flows one way: backends -> inputs -> ``models`` -> optvis -> methods -> api -> cli.
"""

from .classifier import Classifier, Prediction, TopK, classify
from .layers import CONV_TYPES, conv_layers, is_conv, iter_layers, layer_name, resolve_layer
from .loading import APPLICATIONS, MODEL_NAMES, LoadedModel, input_shape, load_model, min_input_size, wrap_model
from .submodels import feature_model, logits_model, output_layer

__all__ = [
    "APPLICATIONS", "CONV_TYPES", "MODEL_NAMES", "Classifier", "LoadedModel", "Prediction", "TopK", "classify", "conv_layers",
    "feature_model", "input_shape", "is_conv", "iter_layers", "layer_name", "load_model", "logits_model",
    "min_input_size", "output_layer", "resolve_layer", "wrap_model",
]
