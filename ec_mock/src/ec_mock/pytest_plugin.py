"""pytest fixtures of ec-mock (entry point ``pytest11``). Inert until a fixture is used."""
