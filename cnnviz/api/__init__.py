"""The public API: one function per job, named like the CLI command, on a ``keras.Model`` object, a
model file or a name; options are keyword arguments named like the CLI flags. Each returns a result
that draws itself in a notebook and ``.save(folder)``s exactly what the CLI writes.
"""

from .classic import edges, kernels, layers
from .common import load
from .maps import activations, cam
from .pictures import filters, fool
from .site import atlas

__all__ = ["activations", "atlas", "cam", "edges", "filters", "fool", "kernels", "layers", "load"]
