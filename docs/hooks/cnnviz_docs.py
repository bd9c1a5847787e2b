"""mkdocs hooks for the cnnviz site (listed under ``hooks:`` in mkdocs.yml; not a page).

* The CLI reference is generated from the typer app itself at build time (the same objects that
  ``cnnviz COMMAND --help`` prints), so it cannot drift from the code: ``<!-- cli-reference -->`` in a
  page is replaced by one section per command.
* The quickstart notebook (examples/quickstart.ipynb) is executed here, at build time, in a fresh
  kernel whose working folder is a temporary one (the files it writes, ``outputs/...``, land there,
  not in the repository); a cell that raises fails the build. The executed copy is what
  mkdocs-jupyter renders (``execute: false`` there). Two things are changed for the page only: the
  C++ log lines TensorFlow writes to stderr when it starts (machine noise: CUDA not found, oneDNN)
  are dropped, and an animated GIF output becomes an ``<img>`` (nbconvert's HTML shows no GIF).
  ``CNNVIZ_DOCS_EXECUTE=0`` skips the execution (a quick local build; the page then has no outputs).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority, get_plugin_logger
from mkdocs.structure.files import File

MARKER = "<!-- cli-reference -->"
NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"
CELL_TIMEOUT_S = 600
#: stderr lines that are TensorFlow's C++ start-up log (absl), not the notebook's output
NOISE = re.compile(r"^(?:[IWE]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\] .*"  # I0000 00:00:1796... 5486 port.cc:153] ...
                   r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                   r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.)$")
_TEMP: list[Path] = []
log = get_plugin_logger(__name__)


@event_priority(100)  # before mkdocs-jupyter wraps the notebook files
def on_files(files, config):
    folder = Path(tempfile.mkdtemp(prefix="cnnviz-docs-"))
    _TEMP.append(folder)
    target = folder / NOTEBOOK.name
    if os.environ.get("CNNVIZ_DOCS_EXECUTE", "1") == "0":
        shutil.copy(NOTEBOOK, target)
    else:
        execute_notebook(NOTEBOOK, target)
    files.append(File(NOTEBOOK.name, str(folder), config["site_dir"], config["use_directory_urls"]))
    return files


def execute_notebook(source: Path, target: Path) -> None:
    """Run ``source`` in a fresh kernel in ``target``'s folder and write it, outputs cleaned, to ``target``."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(source, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                       resources={"metadata": {"path": str(target.parent)}}).execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        raise PluginError(f"{source.name} failed when executed for the docs:\n{exc}") from None
    log.info(f"executed {source.name} in {time.perf_counter() - start:.1f} s")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in map(_clean, cell.outputs) if o is not None]
    nbformat.write(nb, target)


def _clean(output):
    """An output as the page shows it: start-up log lines dropped, a GIF as an ``<img>``."""
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        kept = [line for line in output["text"].splitlines(keepends=True) if not NOISE.match(line.rstrip("\n"))]
        if not "".join(kept).strip():
            return None
        output["text"] = "".join(kept)
    data = output.get("data", {})
    if "image/gif" in data and "text/html" not in data:
        gif = "".join(data["image/gif"]).replace("\n", "")
        data["text/html"] = f'<img src="data:image/gif;base64,{gif}" alt="animated GIF">'
    return output


def on_post_build(config):
    while _TEMP:
        shutil.rmtree(_TEMP.pop(), ignore_errors=True)


def on_build_error(error):
    on_post_build(None)


def on_page_markdown(markdown, page, config, files):
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, cli_reference())
    return markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(record: tuple[str, str]) -> str:
    """One option as a table row: the flags (and value), what it does, its default."""
    names, help_text = record
    default = ""
    if "[default: " in help_text:
        help_text, _, rest = help_text.partition("[default: ")
        default = rest.rsplit("]", 1)[0]
    required = "[required]" in help_text
    help_text = help_text.replace("[required]", "").strip()
    if "LIST[" in names:  # a repeatable option: show the value it takes, and say it repeats
        names = names.split(" LIST[")[0] + " TEXT"
        help_text += " (repeatable)"
    if required:
        help_text += " **Required.**"
    # inside backticks a | does not split the cell (Python-Markdown's tables); in plain text it must be escaped
    return f"| `{names}` | {_cell(help_text)} | {f'`{default}`' if default else ''} |"


def _params_table(command, ctx) -> list[str]:
    rows = [_row(r) for p in command.params if not getattr(p, "hidden", False)
            for r in [p.get_help_record(ctx)] if r]
    if not rows:
        return []
    return ["| option | what it does | default |", "| --- | --- | --- |", *rows, ""]


def cli_reference() -> str:
    """Markdown for ``cnnviz --help`` and every ``cnnviz COMMAND --help``, from the typer app."""
    import typer

    from cnnviz.cli import app

    group = typer.main.get_command(app)
    ctx = group.context_class(group, info_name="cnnviz")
    lines = ["## `cnnviz`", "", "```", group.get_usage(ctx), "```", "", (group.help or "").strip(), "",
             "Global options (before the command):", "", *_params_table(group, ctx)]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or getattr(command, "hidden", False):
            continue
        sub = command.context_class(command, info_name=name, parent=ctx)
        lines += [f"## `cnnviz {name}`", "", "```", command.get_usage(sub), "```", "",
                  (command.help or "").strip(), "", *_params_table(command, sub)]
    return "\n".join(lines)
