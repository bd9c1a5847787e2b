"""Results: each type of result holds its numbers, writes its manifest record (``record()``), draws its
one figure (``figure()``) and shows or saves itself (:class:`~cnnviz.results.base.Shown`), so the CLI,
the demo and notebooks describe a result the same way. numpy and Pillow only; no TensorFlow here."""

from .activations import ActivationsResult
from .adversarial import AdversarialResult
from .attribution import CamResult
from .base import ModelRef, Results, Shown
from .edges import EdgeResult, GalleryResult
from .filters import FilterResult
from .fooling import FoolResult
from .kernels import KernelResult

__all__ = ["ActivationsResult", "AdversarialResult", "CamResult", "EdgeResult", "FilterResult", "FoolResult", "GalleryResult",
           "KernelResult", "ModelRef", "Results", "Shown"]
