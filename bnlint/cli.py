"""The `bnlint` command line (click): parse options, call the runner, print, choose the exit code.

Exit codes of `bnlint check`: 0 no findings, 1 findings, 2 bad usage, bad configuration or an
internal error. This module never imports torch or lightning: `bnlint audit` does, inside the
command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from bnlint import __version__
from bnlint.audit_command import audit
from bnlint.cache import Cache
from bnlint.catalog import Catalog, RuleLoadError, load_catalog
from bnlint.config import Config, ConfigError, closest, find_config, load_config
from bnlint.discover import PathNotFound, discover, display_path, is_excluded
from bnlint.findings import Finding
from bnlint.report import github, json_report, sarif, statistics, text
from bnlint.runner import Input, Outcome, RunOptions, default_jobs, run
from bnlint.selection import Layer, PerFileIgnores, selected_codes

OUTPUT_FORMATS = ("text", "json", "sarif", "github")
BUG_REPORT = "This is a bug in bnlint: please report it, with the file and the message above."


def _use_color(stream: object) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _split_codes(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())


def _fail(message: str) -> None:
    click.echo(f"bnlint: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bnlint")
def main() -> None:
    """Catch broken initialization and mis-wired normalization in PyTorch code."""


CODES_HELP = "Comma-separated rule codes or prefixes (BNL101, BNL1, ALL)."


@main.command()
@click.argument("paths", nargs=-1, type=str)
@click.option("--select", multiple=True, help=f"Rules to enable, replacing the configured selection. {CODES_HELP}")
@click.option("--ignore", multiple=True, help=f"Rules to disable. {CODES_HELP}")
@click.option("--extend-select", multiple=True, help=f"Rules to enable on top of the selection. {CODES_HELP}")
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (with --fix) or show unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and write nothing.")
@click.option(
    "--output-format", type=click.Choice(OUTPUT_FORMATS), default="text", show_default=True, help="Output format."
)
@click.option("--statistics", is_flag=True, help="Print how many findings of each rule instead of the findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (pyproject.toml or bnlint.toml) to use instead of searching.",
)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes [default: CPUs].")
@click.option("--quiet", "-q", is_flag=True, help="Print only the findings, no summary.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to paths named explicitly too (for pre-commit).")
@click.option("--stdin-filename", default=None, help="Read the source from stdin and report it under this name.")
def check(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    output_format: str,
    statistics: bool,
    exit_zero: bool,
    no_cache: bool,
    config_path: Path | None,
    jobs: int | None,
    quiet: bool,
    force_exclude: bool,
    stdin_filename: str | None,
) -> None:
    """Lint PATHS (default: the current folder): *.py files and notebooks."""
    if stdin_filename is not None:
        # As in ruff: a --stdin-filename always means the source comes from stdin.
        for path in paths:
            if path != "-":
                click.echo(f"bnlint: warning: ignoring {path} in favour of standard input", err=True)
        paths = ("-",)
    try:
        status = _check(
            paths or (".",),
            cli_layer=Layer(
                "--select/--ignore/--extend-select",
                select=_split_codes(select) if select else None,
                extend_select=_split_codes(extend_select),
                ignore=_split_codes(ignore),
            ),
            fix=fix,
            unsafe=unsafe_fixes,
            diff=diff,
            output_format=output_format,
            show_statistics=statistics,
            use_cache=not no_cache,
            config_path=config_path,
            jobs=jobs or default_jobs(),
            quiet=quiet,
            force_exclude=force_exclude,
            stdin_filename=stdin_filename,
        )
    except (ConfigError, RuleLoadError) as error:
        _fail(str(error))
    except PathNotFound as error:
        _fail(f"no such file or folder: {error}")
    except click.ClickException:
        raise
    except Exception:  # an internal error outside any one file
        import traceback

        click.echo(traceback.format_exc(), err=True)
        _fail(f"internal error. {BUG_REPORT}")
    if exit_zero and status == 1:
        status = 0
    sys.exit(status)


def _load_settings(paths: Sequence[str], config_path: Path | None, stdin_filename: str | None) -> Config:
    cwd = Path.cwd()
    if config_path is not None:
        if not config_path.is_file():
            raise ConfigError(f"configuration file {config_path} does not exist")
        return load_config(config_path.resolve(), cwd)
    first = stdin_filename if paths[0] == "-" else paths[0]
    start = (cwd / first) if first else cwd
    if not start.exists():
        start = start.parent if start.parent.exists() else cwd
    return load_config(find_config(start), cwd)


def _inputs(
    paths: Sequence[str],
    config: Config,
    catalog: Catalog,
    codes: frozenset[str],
    force_exclude: bool,
    stdin_filename: str | None,
) -> tuple[list[Input], list[str], bytes | None]:
    """What to check, each with the codes in force for it after per-file ignores.

    The third item is stdin's content when stdin names an excluded file (it is echoed with --fix).
    """
    per_file = PerFileIgnores(config.per_file_ignores, config.root, list(catalog.rules), config.source)
    ordered = tuple(sorted(codes))

    def codes_for(path: str) -> tuple[str, ...]:
        off = per_file.ignored(path, ordered)
        return tuple(code for code in ordered if code not in off)

    if list(paths) == ["-"]:
        name = stdin_filename or "-"
        path = (Path.cwd() / name).absolute()
        data = sys.stdin.buffer.read()
        if force_exclude and stdin_filename and is_excluded(path, config.root, config.exclude, config.extend_exclude):
            return [], [], data
        display = display_path(path, Path.cwd()) if stdin_filename else "-"
        return [Input(display, codes_for(str(path)), name.endswith(".ipynb"), data=data)], [], None
    if "-" in paths:
        raise click.UsageError("`-` (stdin) cannot be combined with other paths")
    found = discover(
        paths,
        project_root=config.root,
        exclude=config.exclude,
        extend_exclude=config.extend_exclude,
        force_exclude=force_exclude,
    )
    items = [
        Input(source.display, codes_for(source.path), source.is_notebook, path=source.path) for source in found.files
    ]
    return items, found.warnings, None


def _check(
    paths: Sequence[str],
    *,
    cli_layer: Layer,
    fix: bool,
    unsafe: bool,
    diff: bool,
    output_format: str,
    show_statistics: bool,
    use_cache: bool,
    config_path: Path | None,
    jobs: int,
    quiet: bool,
    force_exclude: bool,
    stdin_filename: str | None,
) -> int:
    config = _load_settings(paths, config_path, stdin_filename)
    cache = Cache.at_project(config.root) if use_cache else None
    catalog = load_catalog(config.rule_dirs, cache)
    defaults = {code: info.default for code, info in catalog.rules.items()}
    codes = selected_codes(
        defaults,
        [
            Layer(config.source, select=config.select, extend_select=config.extend_select, ignore=config.ignore),
            cli_layer,
        ],
    )
    items, warnings, excluded_stdin = _inputs(paths, config, catalog, codes, force_exclude, stdin_filename)
    for warning in warnings:
        click.echo(f"bnlint: warning: {warning}", err=True)
    if excluded_stdin is not None:
        if fix:
            sys.stdout.buffer.write(excluded_stdin)
        return 0
    stdin = list(paths) == ["-"]
    options = RunOptions(
        fix=fix or diff,
        write=fix and not diff and not stdin,
        unsafe=unsafe,
        jobs=jobs,
        rule_options=(("allow-zero-init", config.allow_zero_init),),
        config_fingerprint=config.fingerprint(),
    )
    outcomes = run(items, catalog, options, cache)
    errors = [outcome for outcome in outcomes if outcome.error is not None]
    for outcome in errors:
        click.echo(f"bnlint: internal error while checking {outcome.display}:\n{outcome.error}", err=True)
    if errors:
        click.echo(f"bnlint: {BUG_REPORT}", err=True)
    unwritten = [outcome for outcome in outcomes if outcome.write_error is not None]
    for outcome in unwritten:
        click.echo(f"bnlint: error: cannot write {outcome.display}: {outcome.write_error}; its fixes were not applied", err=True)
    findings = sorted((f for outcome in outcomes for f in outcome.findings), key=Finding.sort_key)
    fixed = sum(outcome.fixed for outcome in outcomes if outcome.write_error is None)
    if diff:
        status = _print_diff(outcomes, quiet)
    else:
        if stdin and fix:
            outcome = outcomes[0] if outcomes else None
            data = outcome.new_data or outcome.original if outcome else b""
            sys.stdout.buffer.write(data or b"")
            sys.stdout.flush()
        _print_findings(
            findings,
            catalog=catalog,
            codes=codes,
            fixed=fixed,
            fix_mode=fix,
            unsafe=unsafe,
            output_format=output_format,
            show_statistics=show_statistics,
            quiet=quiet,
            to_stderr=stdin and fix,
            unchecked=len(errors),
            unwritten=sum(outcome.fixed for outcome in unwritten),
        )
        status = 1 if findings else 0
    return 2 if errors or unwritten else status


def _text_of(data: bytes) -> str:
    """A file's text for the diff, decoded as bnlint read it (coding cookie, BOM)."""
    from bnlint.sourcefile import SourceError, decode  # only --diff needs it: keep cached runs light

    try:
        return decode(data).text
    except SourceError:
        return data.decode("utf-8", errors="replace")


def _print_diff(outcomes: Sequence[Outcome], quiet: bool) -> int:
    from difflib import unified_diff  # only --diff needs it

    changed = 0
    fixes = 0
    for outcome in outcomes:
        if outcome.new_data is None or outcome.original is None:
            continue
        changed += 1
        fixes += outcome.fixed
        before = _text_of(outcome.original).splitlines(keepends=True)
        after = _text_of(outcome.new_data).splitlines(keepends=True)
        for line in unified_diff(before, after, fromfile=outcome.display, tofile=outcome.display):
            click.echo(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n", nl=False)
    if changed and not quiet:
        click.echo(f"Would fix {fixes} finding{'s' if fixes != 1 else ''} in {changed} file{'s' if changed != 1 else ''}.", err=True)
    return 1 if changed else 0


def _print_findings(
    findings: list[Finding],
    *,
    catalog: Catalog,
    codes: frozenset[str],
    fixed: int,
    fix_mode: bool,
    unsafe: bool,
    output_format: str,
    show_statistics: bool,
    quiet: bool,
    to_stderr: bool,
    unchecked: int,
    unwritten: int,
) -> None:
    stream = sys.stderr if to_stderr else sys.stdout
    color = _use_color(stream)

    def out(content: str) -> None:
        click.echo(content, nl=False, err=to_stderr, color=color)

    if show_statistics:
        out(statistics.render_json(findings, unsafe) if output_format == "json" else statistics.render_text(findings, unsafe))
        return
    if output_format == "json":
        out(json_report.render(findings))
    elif output_format == "sarif":
        out(sarif.render(findings, [catalog.rules[code] for code in sorted(codes)]))
    elif output_format == "github":
        out(github.render(findings))
    else:
        out(text.render(findings, color=color, unsafe=unsafe))
        if not quiet:
            summary = text.summary(
                findings, fixed=fixed, fix_mode=fix_mode, unsafe=unsafe, unchecked=unchecked, unwritten=unwritten
            )
            out(summary + "\n")


@main.command(name="rules")
@click.option("--output-format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
def list_rules(output_format: str, config_path: Path | None) -> None:
    """List every rule: code, name, default on/off, fixable."""
    catalog = _catalog_or_exit(config_path)
    if output_format == "json":
        import json

        click.echo(json.dumps([info.to_json() for info in catalog.rules.values()], indent=2))
        return
    rows = [
        (info.code, info.name, info.severity.value, "on" if info.default else "off", info.fix.value if info.fix else "-")
        for info in catalog.rules.values()
    ]
    header = ("code", "name", "severity", "default", "fix")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@main.command(name="rule")
@click.argument("code")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
def show_rule(code: str, config_path: Path | None) -> None:
    """Print one rule's documentation: what, why, example, fix, references."""
    catalog = _catalog_or_exit(config_path)
    info = catalog.rules.get(code.upper())
    if info is None:
        _fail(f"unknown rule code '{code}'{closest(code.upper(), list(catalog.rules))}")
        return
    fixable = f"fix: {info.fix.value}" if info.fix else "no fix"
    click.echo(f"# {info.code} {info.name}\n\nseverity: {info.severity.value}; default: {'on' if info.default else 'off'}; {fixable}\n")
    click.echo(info.documentation, nl=False)


def _catalog_or_exit(config_path: Path | None) -> Catalog:
    try:
        config = _load_settings((".",), config_path, None)
        return load_catalog(config.rule_dirs, None)
    except (ConfigError, RuleLoadError) as error:
        _fail(str(error))
        raise  # unreachable: _fail exits


main.add_command(audit)
