"""Exit codes and hostile input: every bad file is one clear finding or message, never a traceback,
and the rest of the tree is still checked."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from cli_helpers import bnlint, write

GOOD = "model.eval\n"  # one BNL203 finding: proof that the file next to the bad one was checked


def _json(tmp_path: Path, *args: str) -> tuple[int, list[dict], str]:
    result = bnlint("check", "--no-cache", "--output-format", "json", *args, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


def test_exit_codes(tmp_path: Path) -> None:
    write(tmp_path, {"clean.py": "model.eval()\n", "dirty.py": GOOD})
    assert bnlint("check", "clean.py", cwd=tmp_path).returncode == 0
    assert bnlint("check", "dirty.py", cwd=tmp_path).returncode == 1
    assert bnlint("check", "dirty.py", "--exit-zero", cwd=tmp_path).returncode == 0
    missing = bnlint("check", "nowhere.py", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere.py" in missing.stderr


def test_syntax_error_is_bnl000_at_the_parser_position_and_others_are_checked(tmp_path: Path) -> None:
    write(tmp_path, {"broken.py": "import torch\n\ndef forward(self, x:\n    return x\n", "good.py": GOOD})
    status, findings, _ = _json(tmp_path, ".")
    assert status == 1
    assert [(f["path"], f["code"], f["line"], f["column"]) for f in findings] == [
        ("broken.py", "BNL000", 3, 12),
        ("good.py", "BNL203", 1, 1),
    ]
    assert findings[0]["name"] == "syntax-error" and findings[0]["severity"] == "error"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        pytest.param("latin.py", b'x = 1\nname = "caf\xe9"\n', (2, 12, "not valid utf-8: byte 0xe9"), id="not-utf8"),
        pytest.param("first_line.py", b'n = "\xe9"\n', (1, 6, "not valid utf-8: byte 0xe9"), id="not-utf8-line-1"),
        pytest.param("junk.py", bytes(range(256)) * 4, (3, 115, "not valid utf-8: byte 0x80"), id="binary-junk"),
        pytest.param("nul.py", b"x = 1\x00\n", (1, 1, "null bytes"), id="null-bytes"),
        pytest.param("cookie.py", b"# coding: klingon\nx = 1\n", (1, 1, "unknown encoding: klingon"), id="bad-cookie"),
        pytest.param("notebook.ipynb", b'{"cells": [', (1, 12, "not valid JSON"), id="notebook-not-json"),
        pytest.param("shape.ipynb", b'{"cells": {}}', (1, 1, "no `cells` list"), id="notebook-no-cells"),
    ],
)
def test_undecodable_files_are_bnl000(tmp_path: Path, name: str, content: bytes, expected: tuple[int, int, str]) -> None:
    write(tmp_path, {name: content, "good.py": GOOD})
    status, findings, _ = _json(tmp_path, ".")
    assert status == 1
    bad = [f for f in findings if f["path"] == name]
    assert len(bad) == 1 and bad[0]["code"] == "BNL000"
    line, column, message = expected
    assert (bad[0]["line"], bad[0]["column"]) == (line, column)
    assert message in bad[0]["message"]
    assert [f["path"] for f in findings if f["code"] == "BNL203"] == ["good.py"]


def test_bom_crlf_and_empty_files_are_checked_normally(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "bom.py": b"\xef\xbb\xbfimport torch\nmodel.eval\n",
            "crlf.py": b"import torch\r\n\r\nmodel.train\r\n",
            "cr.py": b"x = 1\rmodel.eval\r",
            "latin1.py": b'# -*- coding: latin-1 -*-\nname = "caf\xe9"\nmodel.eval\n',
            "empty.py": b"",
            "blank.py": b"\n\n",
        },
    )
    status, findings, _ = _json(tmp_path, ".")
    assert status == 1
    assert [(f["path"], f["line"], f["column"], f["code"]) for f in findings] == [
        ("bom.py", 2, 1, "BNL203"),
        ("cr.py", 2, 1, "BNL203"),
        ("crlf.py", 3, 1, "BNL203"),
        ("latin1.py", 3, 1, "BNL203"),
    ]


@pytest.mark.parametrize("kind", ["socket", "fifo"])
def test_a_special_file_named_py_is_bnl000(tmp_path: Path, kind: str) -> None:
    """A socket cannot be opened (even by root); reading a named pipe would wait forever."""
    write(tmp_path, {"good.py": GOOD})
    special = tmp_path / "special.py"
    with socket.socket(socket.AF_UNIX) as server:
        if kind == "socket":
            server.bind(str(special))
        else:
            os.mkfifo(special)
        status, findings, _ = _json(tmp_path, ".")
    assert status == 1
    assert [(f["path"], f["code"], f["message"]) for f in findings] == [
        ("good.py", "BNL203", "`model.eval` is looked up but never called; add `()`"),
        ("special.py", "BNL000", "cannot read the file: not a regular file"),
    ]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files without read permission")
def test_file_without_read_permission_is_bnl000(tmp_path: Path) -> None:
    write(tmp_path, {"locked.py": GOOD, "good.py": GOOD})
    (tmp_path / "locked.py").chmod(0)
    status, findings, _ = _json(tmp_path, ".")
    assert status == 1
    assert [(f["path"], f["code"]) for f in findings] == [("good.py", "BNL203"), ("locked.py", "BNL000")]
    assert "cannot read the file" in findings[1]["message"]


@pytest.mark.slow
def test_a_50000_line_file(tmp_path: Path) -> None:
    write(tmp_path, {"generated.py": "pass\n" * 49_999 + "model.eval\n", "good.py": GOOD})
    status, findings, _ = _json(tmp_path, ".")
    assert status == 1
    assert [(f["path"], f["line"]) for f in findings] == [("generated.py", 50_000), ("good.py", 1)]
