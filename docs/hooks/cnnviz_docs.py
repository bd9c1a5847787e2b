"""mkdocs hooks for the cnnviz site (listed under ``hooks:`` in mkdocs.yml; not a page).

* The CLI reference is generated from the typer app itself at build time (the same objects that
  ``cnnviz COMMAND --help`` prints), so it cannot drift from the code: ``<!-- cli-reference -->`` in a
  page is replaced by one section per command.
* The quickstart notebook (examples/quickstart.ipynb) is added as a page from a temporary copy, so
  that when mkdocs-jupyter executes it, the files it writes (``outputs/...``) land in that temporary
  folder, not in the repository.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

MARKER = "<!-- cli-reference -->"
NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"
_TEMP: list[Path] = []


@event_priority(100)  # before mkdocs-jupyter wraps the notebook files
def on_files(files, config):
    folder = Path(tempfile.mkdtemp(prefix="cnnviz-docs-"))
    _TEMP.append(folder)
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    files.append(File(NOTEBOOK.name, str(folder), config["site_dir"], config["use_directory_urls"]))
    return files


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
