"""ec-cqg: the CQG WebAPI adapter of ec."""
