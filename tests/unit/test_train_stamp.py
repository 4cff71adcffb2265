"""scripts/train.sh's stamp: what `make train`, `make run` and `make bench` use to decide
whether the model is current."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import BIN, MODEL, ROOT


def test_the_trained_model_is_current_by_its_stamp(trained_model):
    """Right after training, `train.sh --stamp` names the inputs the model was built from
    (it regenerates the generated data first, so nothing in it drifts between runs)."""
    env = {**os.environ, "VENV": str(BIN.parent), "PYTHONPATH": str(ROOT)}
    stamp = subprocess.run(
        ["bash", "scripts/train.sh", "--stamp"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert len(stamp) == 64
    assert stamp == MODEL.with_suffix("").with_suffix(".sha256").read_text().strip()
