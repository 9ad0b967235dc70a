"""Test support for ec and its plugins.

Nothing here is imported by ``import ec_core``. The vendor conformance kit,
:mod:`ec_core.testing.conformance`, imports pytest (and is meant to run under it):
pytest is a requirement of the test environment that uses the kit, not of ec-core.
"""
