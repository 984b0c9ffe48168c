import pytest

from pingan.core.env import EnvError, env_bool, env_int, env_list
from pingan.core.masking import mask_id_number, mask_name, mask_phone


def test_env_readers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(EnvError, match="X_BOOL"):
        env_bool("X_BOOL")
    monkeypatch.setenv("X_INT", "12a")
    with pytest.raises(EnvError, match="X_INT"):
        env_int("X_INT", 1)


def test_env_readers_parse(monkeypatch):
    monkeypatch.setenv("X_BOOL", "Yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL") is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST", []) == ["a", "b", "c"]
    assert env_int("X_MISSING", 7) == 7


def test_masking():
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_id_number("11010119900307123X") == "110***********123X"
    assert mask_name("张三丰") == "张**"
    assert mask_phone("") == mask_id_number(None) == ""
