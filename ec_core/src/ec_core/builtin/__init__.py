"""Core's own behaviour, registered as ordinary plugins so users can add to or replace it."""
