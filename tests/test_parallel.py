"""`--jobs N`: files are checked in N worker processes and the output does not depend on N.

The runner checks small runs in-process (below 64 KiB of source), so the project here holds more
than that; the test rule USR300 reports the id of the process that checked each file, which shows
whether worker processes really did the work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import bnlint, clean_env, user_rules, write

from bnlint.runner import PARALLEL_MIN_BYTES

CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parallel")
    user_rules("rules_pid", root)
    files: dict[str, str] = {"bnlint.toml": 'rule-dirs = ["my_rules"]\nextend-exclude = ["my_rules"]\n'}
    # Comments make up the bulk: bytes that count towards the threshold but cost little to parse.
    body = "# " + "padding " * 12 + "\n"
    body = body * 30 + "".join(f"layer_{i} = nn.Linear({i}, {i + 1})\n" for i in range(10))
    for index in range(24):
        files[f"pkg{index % 3}/mod_{index:02}.py"] = (
            "import torch.nn as nn  # which process?\n" + body + "model.eval\n" * (index % 4) + "x = 1; loss.backward\n"
        )
    files["pkg0/broken.py"] = "def f(:\n"
    files["pkg1/nb.ipynb"] = json.dumps({"cells": [{"cell_type": "code", "source": "optimizer.step\n", "metadata": {}}]})
    write(root, files)
    assert sum(len(text) for text in files.values()) > PARALLEL_MIN_BYTES
    return root


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_output_is_identical_for_every_jobs(project: Path, output_format: str) -> None:
    outputs = {
        jobs: bnlint("check", "--no-cache", "--ignore", "USR300", "--output-format", output_format, "--jobs", jobs, cwd=project)
        for jobs in ("1", "2", "3")
    }
    assert {(result.returncode, result.stderr) for result in outputs.values()} == {(1, "")}
    assert outputs["1"].stdout == outputs["2"].stdout == outputs["3"].stdout
    if output_format == "text":
        # 24 x loss.backward, 36 x model.eval, the notebook's optimizer.step, the broken file.
        assert outputs["1"].stdout.splitlines()[-1] == "Found 62 findings (61 fixable with --fix)."


def _checking_processes(project: Path, *args: str) -> tuple[int, set[int]]:
    """The bnlint process's id, and the ids of the processes that checked the files."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bnlint", "check", "--no-cache", "--select", "USR300", "--output-format", "json", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    findings = json.loads(out)
    assert len(findings) == 24
    return process.pid, {int(f["message"].split()[-1]) for f in findings}


def test_jobs_n_checks_in_n_worker_processes(project: Path) -> None:
    parent, workers = _checking_processes(project, "--jobs", "2")
    assert parent not in workers and 1 <= len(workers) <= 2
    parent, workers = _checking_processes(project, "--jobs", "1")
    assert workers == {parent}


@pytest.mark.skipif(CPUS < 2, reason="the default is one job on a single CPU")
def test_default_jobs_is_the_number_of_cpus(project: Path) -> None:
    parent, workers = _checking_processes(project)
    assert parent not in workers and len(workers) <= CPUS


def test_jobs_must_be_positive(project: Path) -> None:
    result = bnlint("check", "--jobs", "0", cwd=project)
    assert result.returncode == 2
    assert "--jobs" in result.stderr


def test_a_worker_that_dies_is_pinned_on_its_file(tmp_path: Path) -> None:
    user_rules("rules_exit", tmp_path)
    padding = ("# " + "padding " * 12 + "\n") * 30
    files = {f"m{index:02}.py": padding + ("die()\n" if index == 7 else "model.eval\n") for index in range(30)}
    write(tmp_path, {"bnlint.toml": 'rule-dirs = ["my_rules"]\nextend-exclude = ["my_rules"]\n', **files})
    assert sum(len(text) for text in files.values()) > PARALLEL_MIN_BYTES
    # Before the pool could report a dead worker, this run never ended: hence the timeout.
    result = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "--no-cache", "--jobs", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stdout.splitlines()) == 30  # the 29 other files were checked, and the summary
    assert "m07.py" not in result.stdout
    assert result.stdout.splitlines()[-1].endswith("1 file could not be checked (internal error).")
    assert result.stderr.splitlines()[0] == "bnlint: internal error while checking m07.py:"
    assert "please report it" in result.stderr
