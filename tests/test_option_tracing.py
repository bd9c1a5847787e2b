"""Every option the CLI accepts reaches the library: each command is run with a distinct, non-default value
for every one of its options, the public function it calls is replaced by a recorder, and the value must
arrive in the argument of that name (so a new option cannot be forgotten, nor an old one dropped)."""

import inspect
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import cnnviz.api as api
from cnnviz.cli import app

#: CLI parameter name -> the public function's parameter, where they differ (Python names).
RENAMED = {"model_opt": "model", "model_": "model", "input_name": "input", "max_": "max", "class_": "target",
           "methods": "method", "layers_": "layers", "gallery_": "gallery", "include_top": "top", "filters_": "filters",
           "target_": "target",
           "inputs": None, "images": None}
#: Options that shape only what the CLI prints, not the call (none at present).
CLI_ONLY: dict[str, set[str]] = {}
#: Options that exclude another (cam's --class and --target both feed ``target``): checked in a second run.
ALONE: dict[str, set[str]] = {"cam": {"target_"}}
RIVALS: dict[str, set[str]] = {"cam": {"class_"}}  # left out of the second run
COMMANDS = ("filters", "fool", "activations", "cam", "edges", "kernels", "layers", "atlas")


class Stop(Exception):
    pass


def _value(param, n: int, folder):
    """A distinct, non-default value of the right type for ``param``, and the words to type for it."""
    kind = param.type_descriptor.annotation
    if getattr(param, "is_flag", False):
        return (False, [param.secondary_opts[0]]) if param.secondary_opts else (True, [_flag(param)])
    if kind is int:
        value = 7 + n
    elif kind is float:
        value = 0.25 + n / 100
    elif kind is Path:
        value = folder / f"p{n}"
    else:
        value = f"v{n}-{param.name}"
    return value, [_flag(param), str(value)]


def _flag(param) -> str | None:
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0] if longs else None


@pytest.mark.parametrize("name,alone", [(n, False) for n in COMMANDS] + [(n, True) for n in ALONE])
def test_every_option_reaches_the_library(name, alone, monkeypatch, tmp_path):
    command = typer.main.get_command(app).commands[name]
    real = getattr(api, name)
    calls = []

    def recorder(*args, **kwargs):
        calls.append(inspect.signature(real).bind(*args, **kwargs).arguments)
        raise Stop

    monkeypatch.setattr(api, name, recorder)
    argv, expected = [name], {}
    if name == "atlas":
        argv.append("lenet")
    for n, param in enumerate(command.params):
        if param.param_type_name != "option" or _flag(param) is None:
            continue
        if (param.name in ALONE.get(name, set())) != alone and param.name in ALONE.get(name, set()) | RIVALS.get(name, set()):
            continue
        value, typed = _value(param, n, tmp_path)
        argv += typed
        target = RENAMED.get(param.name, param.name)
        if target and param.name not in CLI_ONLY.get(name, set()):
            expected[target] = value
    result = CliRunner().invoke(app, argv)
    assert calls, f"{name} never called the library: {result.output}"
    got = calls[0]
    missing = [k for k, v in expected.items() if k not in got or str(v) not in str(got[k])]
    assert not missing, f"{name}: options that did not reach cnnviz.{name}: " + ", ".join(
        f"{k} (gave {expected[k]!r}, got {got.get(k, '<absent>')!r})" for k in missing)
