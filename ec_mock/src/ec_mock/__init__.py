"""ec-mock: the exchange simulator of ec."""
