"""`python -m loadgate` is the `loadgate` command."""

from loadgate.cli import main

main()
