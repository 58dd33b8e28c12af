"""The measure tests build and run firmware like the target tests: same helpers, same models."""

from tests.targets.conftest import factory_models  # noqa: F401  (a fixture, shared)
