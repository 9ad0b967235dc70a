"""The ``cqg`` vendor plugin (entry point ``ec.plugins: cqg``)."""
