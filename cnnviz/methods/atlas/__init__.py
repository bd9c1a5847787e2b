"""The atlas: every filter of a CNN's conv layers with its visualisation and the dataset images that excite it
most, as per-filter records (:func:`dataset_examples`) and as a static site (:func:`build_atlas`)."""

from .build import AtlasResult, AtlasSettings, atlas_root, build_atlas
from .data import DataSource, open_data
from .records import Example, FilterRecord, dataset_examples

__all__ = ["AtlasResult", "AtlasSettings", "DataSource", "Example", "FilterRecord", "atlas_root", "build_atlas",
           "dataset_examples", "open_data"]
