"""BNL000: the file cannot be parsed."""

from bnlint.findings import Severity
from bnlint.rule import Case, Rule


class UnparsableSource(Rule):
    """## What it does
    Reports a file (or a notebook cell) that cannot be parsed as Python, cannot be decoded in its
    declared encoding, or cannot be read, at the line and column where the parser stopped.

    ## Why is this bad?
    bnlint cannot check what it cannot parse: none of the other rules ran on this file, so a
    broken file would otherwise pass silently. The other files are still checked.

    ## Example
    ```python
    model = nn.Sequential(nn.Linear(4, 8)
    ```

    ## Use instead
    ```python
    model = nn.Sequential(nn.Linear(4, 8))
    ```

    ## Notebook behavior
    A cell that does not parse is reported for that cell only; the other cells are checked
    together. IPython magics (`%time`, `!pip install ...`) are not syntax errors.

    ## References
    - [Python language reference: full grammar](https://docs.python.org/3/reference/grammar.html)
    """

    code = "BNL000"
    name = "syntax-error"
    severity = Severity.ERROR
    message = "cannot parse the file"
    must_fire = [
        Case("model = nn.Sequential(nn.Linear(4, 8)\n", line=1),
        Case("def forward(self, x):\nreturn x\n", line=2),
    ]
    must_not_fire = [
        # A syntax error inside a string is just text.
        Case('CODE = "def f(:"\n'),
    ]
