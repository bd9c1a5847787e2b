"""Mutation testing of the numeric core with mutmut 3, one module at a time, OUTSIDE CI (slow on 2 cores).

Why: a test that only checks shapes or that a file exists passes when a number is wrong. mutmut changes one
operator or constant at a time (``+`` -> ``-``, ``1e-8`` -> ``2e-8``, ``<`` -> ``<=``); a mutant that no test
notices is a line no test defends. The modules and the fast tests that exercise each one are listed in
pyproject.toml under ``[tool.cnnviz.mutation.tests]``; ``[tool.mutmut]`` holds the shared mutmut settings.

Each module runs in its own scratch copy of the worktree (so ``mutants/`` never lands in the repository),
with mutmut limited to that module and to its test subset (``pytest -x``), so each mutant runs in seconds.

    pip install -e .[mutation]            # mutmut 3.8 or later
    python benchmarks/mutation.py                               # every listed module
    python benchmarks/mutation.py --modules cnnviz/output/text.py cnnviz/inputs/fitting.py
    python benchmarks/mutation.py --list                        # the modules and their tests
    python benchmarks/mutation.py --modules cnnviz/models/receptive_field.py --resume   # go on after --timeout

Prints killed / total per module and lists the survivors (``mutmut show NAME`` in the scratch folder shows
the diff). A survivor that cannot change any result (``np.asarray(x, "float64")`` -> ``np.asarray(x)`` on
float input, an einsum's labels upper-cased) is listed with its reason under
``[tool.cnnviz.mutation.equivalent]``; the last column is the score without those. Mutant numbers change
when the module changes: re-check that table then. Exit status 1 when a module is under ``--threshold``
(default 90 %, counted without the equivalent ones).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def toml_value(value: object) -> str:
    """The few TOML values the scratch pyproject needs: strings, numbers, booleans and lists of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def scratch_pyproject(config: dict, module: str, tests: list[str]) -> str:
    """pyproject.toml for one module's run: the shared [tool.mutmut] limited to this module and its tests."""
    mutmut = dict(config["tool"]["mutmut"], only_mutate=[module], pytest_add_cli_args_test_selection=tests)
    if module in config["tool"]["cnnviz"]["mutation"].get("forkserver", []):
        mutmut["process_isolation"] = "forkserver"  # TensorFlow hangs in a process forked after it ran ops
    pytest_opts = config["tool"]["pytest"]["ini_options"]
    lines = ["[tool.mutmut]"] + [f"{k} = {toml_value(v)}" for k, v in mutmut.items()]
    lines += ["", "[tool.pytest.ini_options]"] + [f"{k} = {toml_value(v)}" for k, v in pytest_opts.items()]
    return "\n".join(lines) + "\n"


def prepare(config: dict, module: str, tests: list[str], workdir: Path, resume: bool = False) -> Path:
    """A fresh scratch copy (cnnviz/, tests/, pyproject.toml) for one module's mutmut run; ``resume`` keeps
    an earlier run's folder (mutmut then skips the mutants it has judged already)."""
    folder = workdir / module.replace("/", "_").removesuffix(".py")
    if resume and (folder / "mutants").is_dir():
        for dest in (folder / "tests", folder / "mutants" / "tests"):  # tests added since: re-check survivors with them
            shutil.copytree(ROOT / "tests", dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("cnnviz", "tests"):
        shutil.copytree(ROOT / name, folder / name, ignore=ignore)
    (folder / "pyproject.toml").write_text(scratch_pyproject(config, module, tests))
    return folder


def survivors(folder: Path, env: dict) -> list[str]:
    """Names of the mutants that no test killed (survived, no tests, timeout, suspicious)."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results"], check=False, cwd=folder, env=env,
                         capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if ":" in line and line.startswith("    ")]


def run_module(config: dict, module: str, tests: list[str], args: argparse.Namespace) -> dict:
    """Run mutmut on one module; return its counts and survivors."""
    folder = prepare(config, module, tests, args.workdir, args.resume)
    env = dict(os.environ, PYTHONPATH=str(folder), TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    start = time.monotonic()
    log = (folder / "mutmut.log").open("w")
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs), *args.mutants]
    # its own session, so that a timeout ends mutmut's fork server and workers too
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
        print(f"  {module}: stopped after {args.timeout} s; counts below are partial (--resume goes on)", flush=True)
    subprocess.run([sys.executable, "-m", "mutmut", "export-cicd-stats"], check=False, cwd=folder, env=env,
                   capture_output=True)
    stats_path = folder / "mutants" / "mutmut-cicd-stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {"killed": 0, "total": 0}
    return {"module": module, "seconds": time.monotonic() - start, "folder": str(folder),
            "survivors": survivors(folder, env), **stats}


def score(row: dict, equivalent: dict[str, str]) -> tuple[int, float, float]:
    """(survivors listed as equivalent, % killed of all mutants, % killed of the non-equivalent ones)."""
    total, killed = row.get("total", 0), row.get("killed", 0)
    eq = sum(1 for s in row["survivors"] if s.split(":")[0] in equivalent)
    return eq, (100.0 * killed / total if total else 0.0), (100.0 * killed / (total - eq) if total > eq else 0.0)


def report(row: dict, equivalent: dict[str, str]) -> str:
    """One table line (killed / total, %, % of the non-equivalent mutants) and the survivors under it."""
    eq, pct, pct_eq = score(row, equivalent)
    head = (f"{row['module']:<44} {row.get('killed', 0):>4} / {row.get('total', 0):<4} {pct:5.1f} %"
            f"  {eq:>3} eq  {pct_eq:5.1f} %  {row['seconds']:5.0f} s")
    lines = [head]
    for s in row["survivors"]:
        name = s.split(":")[0]
        lines.append(f"    equivalent {name}: {equivalent[name]}" if name in equivalent else f"    survived   {s}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table = config["tool"]["cnnviz"]["mutation"]["tests"]
    equivalent = config["tool"]["cnnviz"]["mutation"].get("equivalent", {})
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", nargs="+", default=list(table), help="module paths (default: all listed)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run in parallel (default 2)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per module before stopping")
    parser.add_argument("--threshold", type=float, default=90.0, help="lowest acceptable %% killed")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cnnviz-mutation"), help="scratch folder")
    parser.add_argument("--resume", action="store_true", help="go on with an earlier (timed-out) run of a module"
                        " (its test subset as it was then: a changed subset needs a fresh run)")
    parser.add_argument("--mutants", nargs="+", default=[], help="only these mutants (names or globs; with --resume:"
                        " re-check survivors against the tests as they are now)")
    parser.add_argument("--list", action="store_true", help="print the modules and their tests, then stop")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in table]
    if unknown:
        parser.error(f"not listed in [tool.cnnviz.mutation.tests]: {', '.join(unknown)}; listed: {', '.join(table)}")
    if args.list:
        for module in args.modules:
            print(f"{module}: {' '.join(table[module])}")
        return 0
    if importlib.util.find_spec("mutmut") is None:
        print("error: mutmut is not installed in this Python; pip install -e .[mutation] (mutmut 3.8 or later)")
        return 2
    rows = []
    for module in args.modules:
        print(f"mutating {module} against {' '.join(table[module])} ...", flush=True)
        rows.append(run_module(config, module, table[module], args))
        print(report(rows[-1], equivalent), flush=True)
    print(f"\n{'module':<44} killed / total     %   equiv.  % w/o eq.   time")
    for row in rows:
        print(report(row, equivalent).splitlines()[0])
    low = [r for r in rows if score(r, equivalent)[2] < args.threshold]
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
