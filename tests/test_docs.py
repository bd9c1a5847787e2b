"""The documentation site builds (``mkdocs build --strict``, the notebook executed) and holds what it
promises: a page per job, the CLI reference generated from the app, and the API reference generated
from the docstrings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JOB_PAGES = ("layers", "filters", "fool", "activations", "cam", "atlas", "edges-kernels", "callbacks")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="the docs packages come with the test extra: pip install '.[test]'")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    # the notebook's kernel and mkdocstrings import this checkout's cnnviz
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], check=False, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"mkdocs build failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    return out


def _page(site: Path, name: str) -> str:
    path = site / name / "index.html"
    assert path.is_file(), f"no page {name}/ in the built site"
    return path.read_text(encoding="utf-8")


def _text(html: str) -> str:
    """What a reader sees: tags (such as the code highlighter's spans) removed, entities decoded."""
    import html as html_lib
    import re

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", html)).split())


@pytest.mark.slow
def test_site_has_a_page_per_job_with_python_and_cli(site):
    for name in JOB_PAGES:
        html = _page(site, name)
        assert 'class="side"' in html, f"{name}: no Python/CLI block"
        text = _text(html)
        assert "import cnnviz as cv" in text and "cnnviz " in text, f"{name}: the Python call and the CLI command side by side"
    index = _text((site / "index.html").read_text(encoding="utf-8"))
    assert "pip install . && cnnviz demo" in index and "pip install '.[test]' && python -m pytest -q" in index


@pytest.mark.slow
def test_api_reference_is_generated_from_the_docstrings(site):
    import cnnviz
    import cnnviz.callbacks
    import cnnviz.results

    html = _page(site, "api")
    # the first words of each docstring (up to the first markup), as the page renders them
    for obj in (cnnviz.filters, cnnviz.cam, cnnviz.results.Shown, cnnviz.results.FilterResult,
                cnnviz.callbacks.FilterSnapshots):
        words = obj.__doc__.split("``")[0].split(":class:")[0].split()[:8]
        assert " ".join(words) in _text(html), f"the docstring of {obj.__qualname__} is not on the API page"
    assert ":class:" not in _text(html), "a Sphinx role reached the page unconverted"


@pytest.mark.slow
def test_cli_reference_lists_every_command_and_option(site):
    import typer

    from cnnviz.cli import app

    html = _page(site, "cli")
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert f'id="cnnviz-{name}"' in html, f"no section for cnnviz {name}"
        for param in command.params:
            for flag in param.opts:
                if flag.startswith("--"):
                    assert flag in html, f"cnnviz {name} {flag} is missing from the CLI reference"


@pytest.mark.slow
def test_quickstart_notebook_is_rendered_with_its_outputs(site):
    html = _page(site, "quickstart")
    assert "cv.filters(model" in _text(html)
    assert html.count("data:image/png;base64") >= 7, "the executed notebook's pictures are not on the page"
    assert "data:image/gif;base64" in html, "the callbacks cell's animated GIF is not on the page"
    assert "port.cc" not in html and "absl::InitializeLog" not in html, "TensorFlow's start-up log reached the page"
