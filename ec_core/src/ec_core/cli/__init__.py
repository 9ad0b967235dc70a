"""The ``ec`` command line. Plugins add sub-commands through the ``ec_add_commands`` hook."""
