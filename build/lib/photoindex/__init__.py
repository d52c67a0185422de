"""Composition root: the `photoindex` command."""
