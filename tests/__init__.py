"""The test suite, a package so that tests import shared helpers as ``tests.support.*``.

The helpers assert too (a request answered 201, a row exists); registering
them here, before pytest imports any conftest.py, has pytest rewrite those
asserts so a failure shows the values, as a test's own assert does.
"""

import pytest

pytest.register_assert_rewrite("tests.support")
