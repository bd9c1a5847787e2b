"""Tutorial 5: the Sobel cat. A vertical-edge kernel V and its transpose H run by a Keras Conv2D.

    python examples/sobel_cat.py [IMAGE]
"""

import sys
from pathlib import Path

import numpy as np

import cnnviz as cv


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else None  # default: the bundled cat
    out = Path("outputs/examples")
    r = cv.edges(image, kernel="sobel")
    print("V: strongest response", float(np.abs(r.vertical).max()), "| H:", float(np.abs(r.horizontal).max()))
    written = [r.save(out, overwrite=True).png, cv.edges(image, gallery=True).save(out, overwrite=True).png]
    print("wrote", *written)


if __name__ == "__main__":
    main()
