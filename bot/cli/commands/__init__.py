"""One module per group of sub-commands, each with `register(app: typer.Typer) -> None`."""
