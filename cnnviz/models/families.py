"""How a model file wants its pixels: the ``keras.applications`` family it is, recognised from its layer
names and structure (never from the file name), and that family's preprocessing.

A model file says nothing about the input scale it was trained on; guessing ``pixels / 255`` for a
Caffe-trained VGG16 leaves most of its deep filters dead without a word. The rules are tested against
the real ``keras.applications`` constructors and their ``preprocess_input`` (tests/test_families.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .layers import iter_layers

#: (family, preprocessing, layer names that must all be present). Order matters: Xception also has
#: ``block1_conv1`` (VGG's first layer); ResNetV2 (pre-activation) also has ResNet's layers.
RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Xception", "tf", ("block1_conv1", "block2_sepconv1")),
    ("VGG16/VGG19", "caffe", ("block1_conv1", "block5_conv3")),
    ("DenseNet", "torch", ("conv1_conv", "conv2_block1_concat")),
    ("ResNetV2", "tf", ("conv1_conv", "conv2_block1_preact_bn")),
    ("ResNet", "caffe", ("conv1_conv", "conv2_block1_add")),
    ("InceptionResNetV2", "tf", ("mixed_5b", "block35_1_conv")),
    ("InceptionV3", "tf", ("mixed0", "mixed1")),
    ("MobileNet", "tf", ("conv_dw_1", "conv_pw_1")),
    ("MobileNetV2", "tf", ("expanded_conv_project", "block_1_expand")),
    ("NASNet", "tf", ("stem_conv1", "reduction_conv_1_stem_1")),
    # keras' EfficientNets carry their own Rescaling (caught first); cnnviz's EfficientNet-Lite0 does not
    ("EfficientNet-Lite", "tf", ("stem_conv", "top_conv")),
)

#: What each preprocessing feeds, in words (for the one-line note).
MEANING = {
    "unit": "pixels / 255 (0 to 1)",
    "caffe": "BGR pixels minus the ImageNet mean (caffe)",
    "tf": "pixels / 127.5 - 1 (-1 to 1, tf)",
    "torch": "pixels / 255 standardised by the ImageNet mean and std (torch)",
    "none": "raw 0-255 pixels",
    "bgr": "raw 0-255 BGR pixels",
}
SCALERS = ("Rescaling", "Normalization")


@dataclass(frozen=True)
class Assumption:
    """The preprocessing chosen for a model and why (kept in the manifest, said in a note)."""

    mode: str
    family: str | None  # the recognised architecture, None when nothing was recognised
    evidence: str  # what it was recognised by

    def note(self, name: str) -> str:
        how = "override with --preprocess"
        if self.family is None:
            return (f"{name} is no keras.applications architecture cnnviz knows: assuming it takes {MEANING[self.mode]}; "
                    f"if it was trained otherwise, pass --preprocess caffe|tf|torch|none")
        return f"{name} looks like {self.family} ({self.evidence}): feeding it {MEANING[self.mode]} ({how})"

    def record(self) -> str:
        if self.family is None:
            return f"{self.mode}: assumed (architecture not recognised)"
        return f"{self.mode}: recognised as {self.family} ({self.evidence})"


def leaf_layers(model) -> list:
    """Every layer that is not itself a model, in order (a keras.applications base nested in the user's model too)."""
    import keras

    return [path[-1] for _, path in iter_layers(model) if not isinstance(path[-1], keras.Model)]


def recognise(model) -> Assumption:
    """The preprocessing a model expects, from its structure: its own leading Rescaling/Normalization
    layer (then raw pixels), else a known keras.applications family, else ``unit`` (pixels / 255)."""
    from .model_io import leading_scaler

    leaves = [layer for layer in leaf_layers(model) if type(layer).__name__ != "InputLayer"]
    first = leading_scaler(model) or (leaves[0] if leaves and type(leaves[0]).__name__ in SCALERS else None)
    if first is not None:  # a nested base's own scaler counts too
        return Assumption("none", "a model that scales its own input", f"{type(first).__name__} layer {first.name!r} first")
    names = {layer.name for layer in leaves}
    for family, mode, needed in RULES:
        if all(n in names for n in needed):
            return Assumption(mode, family, "layers " + ", ".join(repr(n) for n in needed))
    return Assumption("unit", None, "")
