"""The ``mock`` vendor plugin (entry point ``ec.plugins: mock``)."""
