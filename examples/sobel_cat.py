"""Tutorial 5: the Sobel cat. A vertical-edge kernel V and its transpose H run by a Keras Conv2D.

    python examples/sobel_cat.py [IMAGE]
"""

import sys
from pathlib import Path

import numpy as np

from cnnviz.methods.edges import edge_filter, gallery
from cnnviz.output.files import save_png
from cnnviz.inputs.images import bundled_cat, read_image
from cnnviz.methods.kernels_classic import gallery_kernels
from cnnviz.output.render import edges_panel, gallery_grid


def main() -> None:
    image = read_image(sys.argv[1] if len(sys.argv) > 1 else bundled_cat())
    out = Path("outputs/examples")
    out.mkdir(parents=True, exist_ok=True)
    r = edge_filter(image, "sobel")
    print("V: strongest response", float(np.abs(r.vertical).max()), "| H:", float(np.abs(r.horizontal).max()))
    save_png(out / "sobel_cat.png", edges_panel(image, r))
    save_png(out / "kernel_gallery.png", gallery_grid(image, gallery(image), gallery_kernels()))
    print(f"wrote {out}/sobel_cat.png and {out}/kernel_gallery.png")


if __name__ == "__main__":
    main()
