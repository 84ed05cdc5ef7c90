"""The command line's commands, one module per group; `pipehouse.cli` assembles them into the
Typer app. What a command shows and asks lives in `pipehouse.console`."""
