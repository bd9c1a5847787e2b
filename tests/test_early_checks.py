"""What can be checked without a model is checked before Keras loads: one line, exit 1, in well under a
second, and no TensorFlow in the process (run in a fresh interpreter to see it)."""

import subprocess
import sys

import pytest

CASES = [
    ("cam lenet {tmp}/fake.png", "is not a readable image"),  # a text file named .png
    ("activations lenet {tmp}/fake.png --layer conv1", "is not a readable image"),
    ("fool lenet -c 3 --image {tmp}/fake.png", "is not a readable image"),
    ("atlas lenet --out {tmp}/afile/sub", "is a file"),  # the output folder cannot be made
    ("filters lenet --layer conv1 --out {tmp}/afile", "is not a folder"),
    ("filters lenet --layer conv1 --method smoth", "did you mean smooth"),
    ("cam lenet --method integrated-gradients --baseline purple", "baseline"),
    ("cam lenet --noise-samples 0", "at least 1"),
    ("filters lenet --layer conv1 --image {tmp}/fake.png --method classic", "needs --method smooth"),
    ("fool lenet -c 3 --image {tmp}/fake.png --method visualize --closeness -1", "must be 0 or more"),
    ("fool lenet -c 3 --closeness 2", "with --method visualize --image"),
    ("filters lenet --layer conv1 --closeness 2", "give the photo with --image"),
]


@pytest.mark.parametrize("argv,message", CASES, ids=[c[0].split()[0] + "-" + c[1].split()[-1] for c in CASES])
def test_refused_before_keras_loads(argv, message, tmp_path):
    (tmp_path / "fake.png").write_text("not an image")
    (tmp_path / "afile").write_text("a file where a folder should be")
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom cnnviz.cli import app\n"
            f"r = CliRunner().invoke(app, {argv.format(tmp=tmp_path).split()!r})\n"
            "print(r.exit_code); print(r.output.strip().splitlines()[-1]); print('tensorflow' in sys.modules or 'keras' in sys.modules)\n")
    code_, line, loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()[-3:]
    assert code_ == "1" and line.startswith("error: ") and message in line, line
    assert loaded == "False", f"Keras was loaded before refusing: {argv}"
