"""Lint speed: `bnlint check` against bare libcst parsing and TorchFix, on the same files, in one run.

    python benchmarks/lint_speed.py [--repeat 5] [--torchfix PATH] [--write docs/performance.md]

Corpus: the `.py` files of the installed `torch/nn` and `lightning/pytorch` packages, copied to
a temporary folder (so the cache and the "touched file" run do not write into site-packages).
Measured, interleaved repetition by repetition so that machine noise hits every tool alike:

- bare `libcst.parse_module` over every file, in one process (the floor of any libcst linter);
- `bnlint check --no-cache` (cold, default jobs);
- `bnlint check` with a warm cache and nothing changed;
- `bnlint check` after one file's content changed (its entry misses, the others hit), twice:
  a file no rule can fire on (the middle file of the corpus: Python's own parser checks it) and
  `torch/nn/modules/batchnorm.py`, which the rules analyse (libcst is imported and parses it);
- `torchfix` (0.7, in its own virtual environment: it pins libcst < 1.6), when `--torchfix`
  names its executable.

Every time is the wall-clock time of a fresh process, as a user runs it. The script prints the
versions, the minimum and median of each, and the ratios the SPEC sets targets for.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

PARSE_SCRIPT = """
import pathlib, sys, libcst
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    libcst.parse_module(path.read_bytes())
"""


def corpus_roots() -> list[Path]:
    import lightning
    import torch

    return [Path(torch.__file__).parent / "nn", Path(lightning.__file__).parent / "pytorch"]


def copy_corpus(destination: Path) -> tuple[int, int]:
    """Copy the corpus; return (files, lines)."""
    files = lines = 0
    for root in corpus_roots():
        for path in sorted(root.rglob("*.py")):
            target = destination / root.parent.name / path.relative_to(root.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            files += 1
            lines += path.read_bytes().count(b"\n")
    return files, lines


def timed(command: list[str], cwd: Path, env: dict[str, str], allowed: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in allowed:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repetitions (default 5)")
    parser.add_argument("--torchfix", type=Path, default=None, help="path to a torchfix 0.7 executable")
    parser.add_argument("--write", type=Path, default=None, help="Markdown file to write the results into")
    parser.add_argument("--whole-torch", action="store_true", help="also lint the whole installed torch package once")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bnlint-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        files, lines = copy_corpus(corpus)
        env = {**os.environ, "BNLINT_CACHE_DIR": str(work / "cache"), "NO_COLOR": "1"}
        bnlint = [sys.executable, "-m", "bnlint", "check", "corpus"]
        touched = sorted(corpus.rglob("*.py"))[len(list(corpus.rglob("*.py"))) // 2]
        analysed = corpus / "torch" / "nn" / "modules" / "batchnorm.py"
        runs: dict[str, list[float]] = {
            "parse": [], "cold": [], "warm": [], "touched": [], "analysed": [], "torchfix": []
        }  # fmt: skip
        timed([*bnlint], work, env)  # populate the cache once
        for repetition in range(args.repeat):
            runs["parse"].append(timed([sys.executable, "-c", PARSE_SCRIPT, "corpus"], work, env, (0,)))
            runs["cold"].append(timed([*bnlint, "--no-cache"], work, env))
            runs["warm"].append(timed(bnlint, work, env))
            with touched.open("a", encoding="utf-8") as handle:
                handle.write(f"\n# benchmark edit {repetition}\n")
            runs["touched"].append(timed(bnlint, work, env))
            with analysed.open("a", encoding="utf-8") as handle:
                handle.write(f"\n# benchmark edit {repetition}\n")
            runs["analysed"].append(timed(bnlint, work, env))
            if args.torchfix is not None:
                runs["torchfix"].append(timed([str(args.torchfix), "corpus"], work, env, (0, 1)))

    def row(name: str) -> tuple[float, float]:
        return min(runs[name]), statistics.median(runs[name])

    cold = row("cold")
    lines_out = [
        "Command: `python benchmarks/lint_speed.py "
        + " ".join("PATH" if arg == str(args.torchfix) else arg for arg in sys.argv[1:])
        + "`" + (" (PATH: torchfix 0.7.0 in its own virtual environment, libcst 1.5.1)" if args.torchfix else ""),
        "",
        f"Corpus: {files} files, {lines} lines (installed `torch/nn` and `lightning/pytorch`).",
        f"Versions: Python {platform.python_version()}, bnlint {metadata.version('bnlint')}, "
        f"libcst {metadata.version('libcst')}, torch {metadata.version('torch')}, "
        f"lightning {metadata.version('lightning')}; {os.cpu_count()} CPUs.",
        "",
        "| run | min (s) | median (s) | ratio of medians |",
        "|---|---|---|---|",
    ]
    ratios = {
        "parse": ("bare libcst parse, one process", "bnlint cold / parse = {:.2f} (target <= 1.5)", cold[1] / row("parse")[1]),
        "cold": ("bnlint check --no-cache", "", None),
        "warm": ("bnlint check, warm cache", "warm / cold = {:.3f} (target <= 0.05)", row("warm")[1] / cold[1]),
        "touched": (
            f"bnlint check, one file changed ({touched.name}, no rule can fire on it)",
            "touched / cold = {:.3f} (target <= 0.10)",
            row("touched")[1] / cold[1],
        ),
        "analysed": (
            "bnlint check, one file changed (batchnorm.py, analysed by the rules)",
            "touched / cold = {:.3f} (target <= 0.10)",
            row("analysed")[1] / cold[1],
        ),
    }
    if runs["torchfix"]:
        ratios["torchfix"] = ("torchfix 0.7", "bnlint cold / torchfix = {:.3f} (target <= 0.20)", cold[1] / row("torchfix")[1])
    for key, (label, ratio_text, ratio) in ratios.items():
        low, median = row(key)
        lines_out.append(f"| {label} | {low:.2f} | {median:.2f} | {ratio_text.format(ratio) if ratio is not None else ''} |")
    if args.whole_torch:
        lines_out += ["", whole_torch()]
    report = "\n".join(lines_out) + "\n"
    print(report)
    if args.write is not None:
        write_section(args.write, "Lint speed", report)


def whole_torch() -> str:
    """Lint every file of the installed torch package once: no crash, no internal error, and how long."""
    import torch

    root = Path(torch.__file__).parent
    files = sum(1 for _ in root.rglob("*.py"))
    with tempfile.TemporaryDirectory(prefix="bnlint-bench-") as tmp:
        env = {**os.environ, "NO_COLOR": "1", "BNLINT_CACHE_DIR": tmp}
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "bnlint", "check", "--no-cache", "--statistics", str(root)],
            env=env,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
    internal = result.stderr.count("internal error")
    counts = ", ".join(line.split("\t")[1] + " " + line.split("\t")[0].strip() for line in result.stdout.splitlines() if "\t" in line)
    return (
        f"Whole installed torch package: {files} files in {elapsed:.1f} s (one cold run), exit code "
        f"{result.returncode}, {internal} internal errors; findings: {counts or 'none'}."
    )


def write_section(path: Path, title: str, body: str) -> None:
    """Replace (or add) the `## title` section of a Markdown file."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    header = f"## {title}\n"
    start = text.find(header)
    section = f"{header}\n{body}\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(header))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
