import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_plotting_imports_no_tensorflow():
    code = "import sys; import cnnviz.plotting, cnnviz.pixels, cnnviz.output.layout, cnnviz.output.files, cnnviz.output.render; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plot_functions_on_synthetic_arrays():
    import matplotlib.pyplot as plt

    from cnnviz import plotting

    rng = np.random.default_rng(0)
    fig, axes = plotting.plot_filters(rng.integers(0, 255, (5, 8, 8, 3)).astype("uint8"), [0, 1, 2, 3, 9], [1.0, 0.0, 2, 3, 4], layer="c")
    assert len(axes) == 5 and axes[4].get_title() == "#9  4" and axes[1].get_title() == "#1 dead"
    assert fig._suptitle.get_text() == "filters of c"
    fig, axes = plotting.plot_fooling(np.zeros((2, 4, 4, 1), "uint8"), ["sea snake", "magpie"], [0.9991, 0.5])
    assert axes[0].get_title() == "sea snake\np=0.9991"
    maps = rng.uniform(0, 1, (6, 6, 4))
    fig, axes = plotting.plot_activations(maps, layer="conv1")
    assert len(axes) == 4 and len(fig.axes) == 4 + 1 + 0  # 4 maps (grid of 2x2) + colorbar
    fig, axes = plotting.plot_cam(np.zeros((8, 8, 1), "uint8"), rng.uniform(0, 1, (8, 8)), class_name="3", probability=0.5)
    assert [a.get_title() for a in axes] == ["3 (p=0.500)", "Grad-CAM", "overlay"]
    fig, axes = plotting.plot_edges(np.zeros((8, 8, 3), "uint8"), rng.normal(size=(8, 8)), rng.normal(size=(8, 8)), np.ones((8, 8)))
    assert len(axes) == 4
    fig, axes = plotting.plot_kernels(rng.normal(size=(3, 3, 1, 6)), [("sobel 0°", 0.9)] * 6)
    assert len(axes) == 6 and "sobel" in axes[0].get_title()
    # draws into given axes
    given_fig, given = plt.subplots(1, 2)
    fig, axes = plotting.show_grid([np.zeros((4, 4)), np.ones((4, 4)) * 255], ["a", "b"], ax=given)
    assert fig is given_fig and [a.get_title() for a in axes] == ["a", "b"]
    with pytest.raises(ValueError, match="need 3 axes"):
        plotting.show_grid([np.zeros((4, 4))] * 3, ax=given)
    plt.close("all")


@pytest.mark.slow
def test_quickstart_notebook_executes():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "examples" / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 6
