"""bnlint's own gitignore matcher (`bnlint.ignore`) against the real `git check-ignore`.

Each case is one `.gitignore` pattern in a folder of its own, with real files and folders next to
it; git's verdict on every path is read in one `git check-ignore` call and compared with ours.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from cli_helpers import clean_env, git

from bnlint.ignore import IgnoreSpec

# pattern -> paths below the pattern's folder; a trailing "/" makes a folder instead of a file.
CASES: dict[str, list[str]] = {
    # Anchoring: a slash at the start or in the middle anchors to the .gitignore's folder.
    "/anchored.py": ["anchored.py", "sub/anchored.py"],
    "doc/*.txt": ["doc/a.txt", "doc/sub/a.txt", "x/doc/a.txt"],
    "mid/*/end.py": ["mid/a/end.py", "mid/a/b/end.py"],
    "plain.py": ["plain.py", "deep/er/plain.py"],
    # `**` at the start, the end, in the middle, and glued to a name (then it is a plain `*`).
    "**/deep.py": ["deep.py", "a/b/deep.py"],
    "lib/**": ["lib/x.py", "lib/a/y.py", "sub/lib/x.py"],
    "a/**/b.py": ["a/b.py", "a/x/y/b.py", "xa/b.py"],
    "**x.py": ["abx.py", "d/x.py", "x.py"],
    "x/**/": ["x/y/", "x/y/z.py", "x/f.py"],
    # Negation: the last matching pattern wins; a file in an ignored folder stays ignored.
    "neg*.py\n!neg_keep.py": ["neg1.py", "neg_keep.py"],
    "out/\n!out/keep.py": ["out/keep.py", "out/other.py"],
    "*.py\n!*/\n!inc/*.py": ["top.py", "inc/a.py", "inc/sub/b.py"],
    # Folder-only patterns.
    "dironly/": ["dironly/", "dironly/f.py", "file/dironly"],
    "k*/": ["kk/", "kk/a.py", "kfile"],
    # Character classes: ranges, negation, a literal `]`, escapes, POSIX classes, never `/`.
    "*.py[co]": ["m.pyc", "m.pyo", "m.pyd"],
    "[!x]y.py": ["ay.py", "xy.py"],
    "[^a]c.py": ["bc.py", "ac.py"],
    "[a-c]z.py": ["az.py", "cz.py", "dz.py"],
    "[]]br.py": ["]br.py", "xbr.py"],
    "[!]]n.py": ["an.py", "]n.py"],
    "[\\]]esc.py": ["]esc.py", "\\esc.py"],
    "[a-]h.py": ["ah.py", "-h.py", "bh.py"],
    "[a-c-e]m.py": ["-m.py", "em.py", "dm.py"],
    "[a\\-c]y": ["ay", "-y", "by"],
    "r[a-\\c]": ["ra", "rb", "rd"],
    "a[z-a]b": ["azb", "aab"],
    "[[:digit:]]d.py": ["1d.py", "xd.py"],
    "[[:foo:]]x": ["1x", "[[:foo:]]x"],
    "fo[[]x.py": ["fo[x.py", "fox.py"],
    "a[/]b": ["a/b", "ab"],
    "odd[": ["odd[", "odd"],
    "r[0-9][0-9].py": ["r12.py", "r1x.py"],
    # Escapes and whitespace.
    "\\#hash.py": ["#hash.py"],
    "\\!bang.py": ["!bang.py"],
    "e\\*s.py": ["e*s.py", "ees.py"],
    "b\\\\a.py": ["b\\a.py", "ba.py"],
    "*.x\\": ["y.x\\", "y.x"],
    "sp\\ ": ["sp ", "sp"],
    "trail.py   ": ["trail.py"],
    "q?q.py": ["qaq.py", "q/q.py"],
    "dots..py": ["dots..py", "dotsx.py"],
    "# comment.py": ["# comment.py"],
}


def _ours(spec: IgnoreSpec, path: str) -> bool:
    """Ignored as git decides: an ignored parent folder ignores everything below it."""
    parts = path.rstrip("/").split("/")
    for depth in range(1, len(parts)):
        if spec.match("/".join(parts[:depth]), True):
            return True
    return spec.match("/".join(parts), path.endswith("/")) is True


def test_patterns_match_git_check_ignore(tmp_path: Path) -> None:
    git("init", "-q", ".", cwd=tmp_path)
    queries: list[tuple[str, str, str]] = []
    for number, (patterns, paths) in enumerate(CASES.items()):
        case = tmp_path / f"case{number}"
        case.mkdir()
        (case / ".gitignore").write_text(patterns + "\n", encoding="utf-8")
        for path in paths:
            target = case / path
            if path.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("", encoding="utf-8")
            queries.append((patterns, path, f"case{number}/{path.rstrip('/')}"))
    result = subprocess.run(
        ["git", "check-ignore", "--stdin", "-z", "-v", "-n"],
        cwd=tmp_path,
        input="\0".join(query for _, _, query in queries) + "\0",
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert result.returncode in (0, 1), result.stderr
    fields = result.stdout.split("\0")
    # -z -v -n: four fields per path: source, line number, pattern (empty when none), path.
    verdicts = {fields[i + 3]: bool(fields[i + 2]) and not fields[i + 2].startswith("!") for i in range(0, len(fields) - 1, 4)}
    assert len(verdicts) == len(queries)
    mismatches = [
        f"{patterns!r} on {path!r}: git {'ignores' if verdicts[query] else 'keeps'} it"
        for patterns, path, query in queries
        if verdicts[query] != _ours(IgnoreSpec(patterns.split("\n")), path)
    ]
    assert not mismatches, "\n".join(mismatches)
