"""`python -m bnlint` runs the command line."""

from bnlint.cli import main

if __name__ == "__main__":
    main()
