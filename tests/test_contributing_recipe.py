"""CONTRIBUTING.md's generator recipe works: the toy generator it shows, registered exactly as written
there (its code block is read from the file), passes the whole contract suite, and leaves the registry
as it found it."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from synth_core.generators import get_generator, list_generators, unregister_generator

from .test_generator_contract import CHECKS, check_declaration

ROOT = Path(__file__).resolve().parents[1]
MODULE = "synth_core.generators.contributing_recipe"  # as if it were a file in synth_core/generators/


def recipe_code() -> str:
    """The ```python block after the ``<!-- recipe: generator -->`` marker in CONTRIBUTING.md."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- recipe: generator -->\s*```python\n(.*?)```", text, re.S)
    assert m, "CONTRIBUTING.md lost its generator recipe block"
    return m.group(1)


@pytest.fixture
def recipe_generator():
    """Import the recipe as a module of the generators package (its decorator registers the class),
    then unregister it and forget the module, whatever the test did."""
    before = [g.name for g in list_generators()]
    module = types.ModuleType(MODULE)
    module.__package__ = "synth_core.generators"  # the recipe's relative imports resolve as in a real file
    sys.modules[MODULE] = module
    try:
        exec(compile(recipe_code(), str(ROOT / "CONTRIBUTING.md"), "exec"), module.__dict__)
        added = [g for g in list_generators() if g.name not in before]
        assert len(added) == 1, "the recipe registers exactly one generator"
        yield added[0]
    finally:
        for g in list_generators():
            if g.name not in before:
                unregister_generator(g.name)
        sys.modules.pop(MODULE, None)
    assert [g.name for g in list_generators()] == before


def test_recipe_generator_passes_the_contract(recipe_generator):
    cls = recipe_generator
    assert get_generator(cls.name) is cls and cls.__module__ == MODULE
    assert cls.summary().startswith("Per-feature Gaussian")  # the module docstring is its summary
    check_declaration(cls)
    assert cls.has_log_density  # the recipe declares a capability, so the capability checks run on it
    for kind in sorted(cls.supports):
        for check in CHECKS:
            check(cls, kind)


def test_recipe_generator_is_gone_afterwards():
    """The fixture unregistered it: the rest of the suite never sees the toy."""
    assert all(g.__module__ != MODULE for g in list_generators())
    assert MODULE not in sys.modules


def test_unregister_unknown_name_raises():
    from synth_core.errors import ConfigError

    with pytest.raises(ConfigError):
        unregister_generator("no-such-generator")
