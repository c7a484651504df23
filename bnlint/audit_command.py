"""`bnlint audit TARGET`: the runtime init audit from the command line.

Imports torch only inside the command, so that `bnlint check` stays light. Exit codes: 0 no finding,
1 a finding (every runtime finding is an error or a warning), 2 a usage problem: torch missing, a
target that cannot be imported, is not callable or does not return a module, a forward pass that
fails with the given input, or an internal error.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from torch import nn

INSTALL_HINT = 'bnlint audit needs the lightning extra (torch): pip install "bnlint[lightning]"'


class AuditUsageError(click.ClickException):
    """A one-line message on stderr and exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def _parse_shape(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        shape = tuple(int(part) for part in value.split(","))
    except ValueError:
        shape = ()
    if not shape or any(size <= 0 for size in shape):
        raise click.BadParameter(f"expected positive integers separated by commas, such as 8,3,32,32; got {value!r}")
    return shape


@click.command()
@click.argument("target")
@click.option(
    "--input-shape",
    callback=_parse_shape,
    metavar="N,C,...",
    help="Shape of the random example input, e.g. 8,3,32,32, when TARGET returns only a module.",
)
@click.option(
    "--output-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Print the audit table and findings as text, or the report as JSON.",
)
def audit(target: str, input_shape: tuple[int, ...] | None, output_format: str) -> None:
    """Audit the initialization of the model that TARGET builds (needs the lightning extra).

    TARGET is path/to/file.py:callable or package.module:callable; the callable takes no argument
    and returns an nn.Module, or a (module, example_input) pair. One forward and backward pass shows
    which activation follows each Linear/Conv layer, and each weight is checked against Kaiming
    (ReLU family) or Xavier (tanh, sigmoid, identity). Exit 1 when there is a finding.
    """
    if importlib.util.find_spec("torch") is None:
        raise AuditUsageError(INSTALL_HINT)
    factory = _load(target)  # before importing torch: a wrong TARGET is reported without waiting for it
    try:
        from bnlint import runtime
    except ImportError as exc:
        raise AuditUsageError(f"{INSTALL_HINT} ({exc})") from exc

    model, example = _build(factory, target)
    if example is None:
        if input_shape is None:
            raise AuditUsageError(
                f"{target} returned only a module: give the example input's shape with --input-shape, "
                "such as --input-shape 8,3,32,32"
            )
        example = _random_input(model, input_shape)
    try:
        report = runtime.audit(model, example)
    except runtime.PassError as exc:
        raise AuditUsageError(
            f"the {exc.phase} pass of {target} with input {_describe(example)} failed{exc.location}: {exc.reason}"
        ) from exc
    except ValueError as exc:  # a model the audit cannot run, such as one with lazy parameters
        raise AuditUsageError(f"cannot audit {target}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed: exit 2 with a bug-report request
        raise AuditUsageError(
            f"internal error while auditing {target}: {type(exc).__name__}: {exc}; "
            "please report this as a bnlint bug, with this message"
        ) from exc
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(str(report))
    click.get_current_context().exit(1 if report.findings else 0)


def _load(target: str) -> object:
    """The object TARGET names: `file.py:callable` or `package.module:callable` (dotted attributes)."""
    location, sep, attribute = target.rpartition(":")
    if not sep or not location or not attribute:
        raise AuditUsageError(
            f"TARGET must be path/to/file.py:callable or package.module:callable, got {target!r}"
        )
    if location.endswith(".py") or os.sep in location or "/" in location:
        module = _import_file(Path(location), target)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(location)
        except Exception as exc:  # noqa: BLE001 - any error while importing user code is a usage error
            raise AuditUsageError(f"cannot import {location!r} for {target}: {type(exc).__name__}: {exc}") from exc
    obj: object = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise AuditUsageError(f"{location} has no attribute {attribute!r} (from TARGET {target!r})")
        obj = getattr(obj, part)
    if not callable(obj):
        raise AuditUsageError(f"{target} is a {type(obj).__name__}, not a callable that returns a module")
    return obj


def _import_file(path: Path, target: str) -> object:
    if not path.is_file():
        raise AuditUsageError(f"cannot import {target}: file {str(path)!r} not found")
    directory = str(path.resolve().parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # so that the file's own sibling imports work, as with `python file.py`
    spec = importlib.util.spec_from_file_location(f"_bnlint_audit_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise AuditUsageError(f"cannot import {target}: {str(path)!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any error while importing user code is a usage error
        raise AuditUsageError(f"cannot import {str(path)!r} for {target}: {type(exc).__name__}: {exc}") from exc
    return module


def _build(factory: object, target: str) -> tuple[nn.Module, object | None]:
    """Call TARGET's callable; accept a module or a (module, example_input) pair."""
    from torch import nn

    try:
        built = factory()  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - user code failing is a usage error
        raise AuditUsageError(f"calling {target}() failed: {type(exc).__name__}: {exc}") from exc
    if isinstance(built, nn.Module):
        return built, None
    if isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], nn.Module):
        return built[0], built[1]
    raise AuditUsageError(
        f"{target}() returned a {type(built).__name__}; expected an nn.Module or a (module, example_input) pair"
    )


def _random_input(model: nn.Module, shape: tuple[int, ...]) -> object:
    """A standard-normal input of `shape` with the dtype and device of the model's first floating tensor,
    drawn from a private generator so that the global random state is not touched."""
    import torch

    reference = next((t for t in [*model.parameters(), *model.buffers()] if t.is_floating_point()), None)
    dtype = reference.dtype if reference is not None else torch.float32
    device = reference.device if reference is not None else torch.device("cpu")
    values = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    return values.to(device=device, dtype=dtype)


def _describe(example: object) -> str:
    shape = getattr(example, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else f"of type {type(example).__name__}"
