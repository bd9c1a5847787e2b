"""Results: each type of result holds its numbers, writes its manifest record (``record()``) and
draws its PNG figure (``render()``), so the CLI, the demo and notebooks describe a result the same
way. numpy and Pillow only; no TensorFlow here."""

from .activations import ActivationsResult
from .adversarial import AdversarialResult
from .edges import EdgeResult, GalleryResult
from .filters import FilterResult
from .fooling import FoolResult
from .heatmap import Heatmap
from .kernels import KernelResult

__all__ = ["ActivationsResult", "AdversarialResult", "EdgeResult", "FilterResult", "FoolResult", "GalleryResult",
           "Heatmap", "KernelResult"]
