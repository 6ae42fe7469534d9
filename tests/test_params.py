import pytest

from synth_core.errors import ConfigError
from synth_core.params import Param, param_table, resolve_params


def test_validate_types_and_ranges():
    p = Param("lr", "float", 1e-3, low=1e-6, high=1.0, log=True)
    assert p.validate("0.01") == 0.01
    with pytest.raises(ConfigError, match="lr must be <= 1.0"):
        p.validate(5)
    with pytest.raises(ConfigError, match="must be a float"):
        p.validate("fast")
    with pytest.raises(ConfigError):
        p.validate(float("nan"))
    i = Param("k", "int", 3, low=1, high=10)
    assert i.validate(4.0) == 4
    with pytest.raises(ConfigError):
        i.validate(2.5)
    with pytest.raises(ConfigError):
        i.validate(True)
    b = Param("flag", "bool", False)
    assert b.validate("true") is True and b.validate("0") is False
    c = Param("loss", "choice", "ns", choices=("ns", "wgan-gp"))
    assert c.validate("wgan-gp") == "wgan-gp"
    with pytest.raises(ConfigError, match="one of ns, wgan-gp"):
        c.validate("hinge")
    t = Param("rules", "text", "", high=20)
    assert t.validate("a in [0, 1]") == "a in [0, 1]"
    with pytest.raises(ConfigError, match="limited to 20"):
        t.validate("x" * 21)


def test_default_outside_space_is_a_bug():
    with pytest.raises(ConfigError):
        Param("n", "int", 0, low=1)
    with pytest.raises(ValueError):
        Param("lr", "float", 0.1, log=True)  # log scale without a positive lower bound


def test_resolve_params_defaults_and_unknown_names():
    specs = (Param("a", "int", 1, low=0), Param("b", "float", 0.5))
    assert resolve_params(specs, {"b": 2}) == {"a": 1, "b": 2.0}
    with pytest.raises(ConfigError, match="Unknown parameter"):
        resolve_params(specs, {"c": 1})
    rows = param_table(specs)
    assert rows[0]["name"] == "a" and rows[0]["space"].startswith("[0")
