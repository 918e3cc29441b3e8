"""Helpers shared by several test modules: builders, doubles, clients (no fixtures, no tests).

Fixtures live in the conftest.py files; tests/__init__.py registers this
package for pytest's assertion rewriting, so the asserts inside helpers report
their values as a test's own asserts do.
"""
