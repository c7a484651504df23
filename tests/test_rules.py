"""Every rule's own examples, every fixture pair, and the rules' metadata and generated docs.

One parametrized test per example (ids like `BNL203-fire-0`), Fixit-style: a rule file carries
examples that must fire and look-alikes that must not, and this file runs them all, built-in and
any later rule alike.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bnlint.engine import CheckOptions, check_text, fix_text
from bnlint.loader import load_rules
from bnlint.rule import DOC_SECTIONS, Case, Rule

RULES = load_rules()
FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent


def _options(rule: type[Rule], case: Case) -> CheckOptions:
    settings = {"allow-zero-init": (), **case.settings}
    return CheckOptions(rules=(rule,), rule_options=tuple(settings.items()))


def _run(rule: type[Rule], case: Case) -> list:
    shift = case.preamble.count("\n")
    findings = check_text(case.preamble + case.code, path="example.py", options=_options(rule, case))
    return [(f.line - shift, f) for f in findings if f.code == rule.code]


def _examples(kind: str) -> list:
    return [
        pytest.param(rule, case, id=f"{code}-{kind}-{index}")
        for code, rule in RULES.items()
        for index, case in enumerate(getattr(rule, kind))
    ]


@pytest.mark.parametrize(("rule", "case"), _examples("must_fire"))
def test_must_fire(rule: type[Rule], case: Case) -> None:
    found = _run(rule, case)
    assert found, f"{rule.code} did not fire on:\n{case.code}"
    if case.line is not None:
        assert case.line in [line for line, _ in found], f"{rule.code} fired on lines {[l for l, _ in found]}"
    if case.fixed is not None:
        fixed, _, count = fix_text(case.preamble + case.code, path="example.py", options=_options(rule, case), unsafe=True)
        assert count > 0
        assert fixed[len(case.preamble) :] == case.fixed


@pytest.mark.parametrize(("rule", "case"), _examples("must_not_fire"))
def test_must_not_fire(rule: type[Rule], case: Case) -> None:
    found = _run(rule, case)
    assert not found, f"{rule.code} fired on look-alike:\n{case.code}\n{[f.message for _, f in found]}"


def _fixture_pairs() -> list:
    pairs = []
    for source in sorted(FIXTURES.glob("*/*.py")):
        if source.name.endswith(".fixed.py"):
            continue
        pairs.append(pytest.param(source, id=f"{source.parent.name}-{source.stem}"))
    return pairs


@pytest.mark.parametrize("source", _fixture_pairs())
def test_fixture(source: Path) -> None:
    """`<CODE>/<name>.py` against `<name>.txt` (`line:column CODE` per finding) and `<name>.fixed.py`."""
    rule = RULES[source.parent.name]
    options = CheckOptions(rules=(rule,), rule_options=(("allow-zero-init", ()),))
    text = source.read_text(encoding="utf-8")
    findings = check_text(text, path=source.name, options=options)
    expected = source.with_suffix(".txt").read_text(encoding="utf-8").split()
    got = " ".join(f"{f.line}:{f.column} {f.code}" for f in findings).split()
    assert got == expected
    fixed_file = source.with_name(source.stem + ".fixed.py")
    if fixed_file.exists():
        fixed, _, _ = fix_text(text, path=source.name, options=options, unsafe=True)
        assert fixed == fixed_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_rule_metadata(rule: type[Rule]) -> None:
    rule.validate()
    documentation = rule.documentation()
    positions = [documentation.index(section) for section in DOC_SECTIONS]
    assert positions == sorted(positions), "documentation sections out of order"
    if rule.fix is not None:
        assert any(case.fixed for case in rule.must_fire), "a fixable rule pins at least one fixed source"


def test_codes_and_names_are_unique() -> None:
    names = [rule.name for rule in RULES.values()]
    assert len(set(names)) == len(names)
    assert all(code == rule.code for code, rule in RULES.items())


def test_rule_docs_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bnlint.docgen", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
