"""Run a check over many files: cache look-ups, then the misses in parallel, then fix writes.

The parent process reads every file once (the cache key is the file's bytes) and never imports
libcst when every file is answered from the cache. Misses go to a pool of worker processes,
largest files first so the pool stays balanced; results are sorted, so the output is the same
for every `--jobs`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

from bnlint.cache import Cache
from bnlint.catalog import Catalog
from bnlint.findings import SYNTAX_ERROR_CODE, Finding

if TYPE_CHECKING:
    from bnlint.worker import FileOutcome

# Below this much source, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 64 * 1024


@dataclass(frozen=True)
class Input:
    """A file to check: on disk (`path`), or given as bytes (`data`, for stdin)."""

    display: str
    codes: tuple[str, ...]
    notebook: bool
    path: str | None = None  # absolute
    data: bytes | None = None


@dataclass(frozen=True)
class RunOptions:
    fix: bool = False
    write: bool = False
    unsafe: bool = False
    jobs: int = 1
    rule_options: tuple[tuple[str, Any], ...] = ()
    config_fingerprint: str = ""


@dataclass
class Outcome:
    """The result for one file, as the reporters and the exit code need it."""

    display: str
    findings: list[Finding]
    fixed: int = 0
    original: bytes | None = None
    new_data: bytes | None = None
    error: str | None = None
    #: Why the fixed file could not be written (its fixes were not applied).
    write_error: str | None = None


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def package_of(path: Path) -> str | None:
    """The dotted package a file belongs to (folders with `__init__.py`), for relative imports."""
    parts: list[str] = []
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.append(folder.name)
        if folder.parent == folder:
            break
        folder = folder.parent
    return ".".join(reversed(parts)) or None


def _answers_the_run(findings: list[Finding] | None, options: RunOptions) -> bool:
    """Whether cached findings answer this run: they exist, and there is no fix to compute for them."""
    return findings is not None and not (options.fix and any(f.fix_applies(options.unsafe) for f in findings))


def _cache_key(scope: str, item: Input, data: bytes) -> str:
    """The cache entry of one file's content under the run's `scope` (rules and configuration)."""
    return hashlib.sha256(f"{scope}\0{_identity(item)}\0".encode() + data).hexdigest()


def run(items: Sequence[Input], catalog: Catalog, options: RunOptions, cache: Cache | None) -> list[Outcome]:
    """Check every item; with `options.fix`, compute fixes and, with `options.write`, write them."""
    outcomes: list[Outcome] = []
    pending: list[tuple[Input, bytes, str, os.stat_result | None]] = []
    # What decides every file's findings besides its own content and identity.
    scope = "|".join((catalog.fingerprint, options.config_fingerprint, repr(options.rule_options)))
    index = cache.stat_index(scope) if cache else None
    for item in items:
        stat = None
        if item.data is not None:
            data = item.data
        else:
            assert item.path is not None
            try:
                stat = os.stat(item.path)
                if not S_ISREG(stat.st_mode):
                    # Reading a named pipe would wait forever; sockets and devices hold no source.
                    outcomes.append(_unreadable(item, catalog, "not a regular file"))
                    continue
                if index is not None:
                    findings = _decode_cached(index.lookup(item.path, stat, _identity(item)))
                    if _answers_the_run(findings, options):
                        outcomes.append(Outcome(item.display, findings))
                        continue
                with open(item.path, "rb") as handle:
                    data = handle.read()
            except OSError as error:
                outcomes.append(_unreadable(item, catalog, error.strerror or str(error)))
                continue
        key = _cache_key(scope, item, data)
        cached = cache.get(key) if cache else None
        findings = _decode_cached(cached)
        if _answers_the_run(findings, options):
            outcomes.append(Outcome(item.display, findings, original=data))
            if index is not None and stat is not None:
                index.record(item.path, stat, _identity(item), cached["findings"])  # type: ignore[index]
            continue
        pending.append((item, data, key, stat))
    syntax_only = [_passes_syntax_only(item, data, catalog) for item, data, _, _ in pending]
    engine_results = iter(_compute([p for p, only in zip(pending, syntax_only) if not only], catalog, options))
    for (item, data, key, stat), only in zip(pending, syntax_only):
        if only:
            outcome = Outcome(item.display, [], original=data)
        else:
            computed = next(engine_results)
            outcome = Outcome(item.display, computed.findings, computed.fixed, data, computed.new_data, computed.error)
        outcomes.append(outcome)
        if outcome.error is not None or cache is None:
            continue
        entry = [f.to_json() for f in outcome.findings]
        if outcome.new_data is None:
            cache.put(key, {"findings": entry})
            if index is not None and stat is not None:
                index.record(item.path, stat, _identity(item), entry)
        elif options.write and item.path is not None:
            cache.put(_cache_key(scope, item, outcome.new_data), {"findings": entry})
    if options.write:
        _write_fixes(items, outcomes)
    if index is not None:
        index.save()
    outcomes.sort(key=lambda outcome: outcome.display)
    return outcomes


def _passes_syntax_only(item: Input, data: bytes, catalog: Catalog) -> bool:
    """Whether a file is clean without running the engine: no selected rule can fire on its text
    (their triggers are absent) and Python's own parser accepts it.

    `ast.parse` runs in C at a tenth of the cost of libcst's parse, and this path does not even
    import libcst. A file Python rejects goes to the engine, which reports the error, or accepts
    syntax newer than the running Python.
    """
    import ast  # here, not at the top: a run answered from the cache needs none of this
    import warnings

    from bnlint.sourcefile import SourceError, decode

    if item.notebook:
        return False
    try:
        text = decode(data).text
    except SourceError:
        return False
    rules = [catalog.rules[code] for code in item.codes if code != SYNTAX_ERROR_CODE and code in catalog.rules]
    if any(rule.may_fire_on(text) for rule in rules):
        return False
    if SYNTAX_ERROR_CODE not in item.codes:
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes: not bnlint's business
        try:
            ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def _write_fixes(items: Sequence[Input], outcomes: Sequence[Outcome]) -> None:
    from bnlint.fix import atomic_write

    paths = {item.display: item.path for item in items}
    for outcome in outcomes:
        path = paths.get(outcome.display)
        if outcome.new_data is not None and path is not None:
            try:
                atomic_write(Path(path), outcome.new_data)
            except OSError as error:  # a read-only file or folder, a full disk: not a bug
                outcome.write_error = error.strerror or str(error)


def _identity(item: Input) -> str:
    """What besides the file's bytes decides its findings (the stat index checks it)."""
    return f"{item.display}|{','.join(item.codes)}|{item.notebook}"


def _decode_cached(cached: dict | None) -> list[Finding] | None:
    if cached is None:
        return None
    try:
        return [Finding.from_json(item) for item in cached["findings"]]
    except (KeyError, TypeError, ValueError):
        return None  # a corrupted or foreign entry: recompute it


def _unreadable(item: Input, catalog: Catalog, reason: str) -> Outcome:
    """A file that cannot be read is a BNL000 finding (when selected), not a crash."""
    info = catalog.rules.get(SYNTAX_ERROR_CODE)
    if info is None or SYNTAX_ERROR_CODE not in item.codes:
        return Outcome(item.display, [])
    finding = Finding(
        code=info.code,
        name=info.name,
        severity=info.severity,
        message=f"cannot read the file: {reason}",
        path=item.display,
        line=1,
        column=1,
        end_line=1,
        end_column=1,
    )
    return Outcome(item.display, [finding])


def _compute(pending: list[tuple[Input, bytes, str, os.stat_result | None]], catalog: Catalog, options: RunOptions) -> list[FileOutcome]:
    """Run the workers over the cache misses; results come back in the order of `pending`."""
    if not pending:
        return []
    from bnlint import worker

    setup = worker.WorkerSetup(
        rule_dirs=catalog.rule_dirs, rule_options=options.rule_options, fix=options.fix, unsafe=options.unsafe
    )
    tasks = [
        worker.FileTask(
            display=item.display,
            data=data,
            codes=item.codes,
            notebook=item.notebook,
            package=package_of(Path(item.path)) if item.path is not None else None,
        )
        for item, data, _, _ in pending
    ]
    total = sum(len(task.data) for task in tasks)
    jobs = min(options.jobs, len(tasks))
    if jobs <= 1 or total < PARALLEL_MIN_BYTES:
        worker.initialize(setup)
        return [worker.process(task) for task in tasks]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    order = sorted(range(len(tasks)), key=lambda index: -len(tasks[index].data))
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    results: list[FileOutcome | None] = [None] * len(tasks)
    # A worker that dies (a segfault in the native parser, a rule calling os._exit) breaks the
    # pool: every file not finished by then is checked again alone, which pins the crash on its file.
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=worker.initialize, initargs=(setup,)) as pool:
        futures = [(index, pool.submit(worker.process, tasks[index])) for index in order]
        for index, future in futures:
            try:
                results[index] = future.result()
            except BrokenProcessPool:
                pass
    for index, result in enumerate(results):
        if result is None:
            with ProcessPoolExecutor(1, mp_context=context, initializer=worker.initialize, initargs=(setup,)) as alone:
                try:
                    results[index] = alone.submit(worker.process, tasks[index]).result()
                except BrokenProcessPool:
                    results[index] = worker.FileOutcome(
                        tasks[index].display, error="the process checking this file died (a crash in the parser or a rule)"
                    )
    return results  # type: ignore[return-value]

