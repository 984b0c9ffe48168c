"""Outside the demo the server refuses to start with a missing or weak SECRET_KEY (issue 11,
point 6). Settings are read at import, so each case imports them in a fresh interpreter."""

import secrets

import pytest

from pingan.core.secretkey import weakness
from tests.core.test_deploy_check import _run

STRONG = secrets.token_urlsafe(50)
WEAK = {
    "absent": "",
    "short": "x9" * 20,  # 40 characters
    "repetitive": "ab" * 40,  # 80 characters, 2 distinct
    "placeholder": "django-insecure-" + secrets.token_urlsafe(50),
}


@pytest.mark.parametrize("name", WEAK)
def test_weak_keys_are_named(name):
    assert weakness(WEAK[name]) is not None


def test_a_random_key_is_fine():
    assert weakness(STRONG) is None


IMPORT = "import pingan.settings; print('started')"


@pytest.mark.parametrize("name", WEAK)
def test_the_server_refuses_to_start_with_a_weak_key(tmp_path, name):
    done = _run(["-c", IMPORT], tmp_path, SECRET_KEY=WEAK[name])
    assert done.returncode != 0
    assert "EnvError" in done.stderr and "SECRET_KEY" in done.stderr
    assert "started" not in done.stdout


def test_it_starts_with_a_strong_key(tmp_path):
    done = _run(["-c", IMPORT], tmp_path, SECRET_KEY=STRONG)
    assert done.returncode == 0, done.stderr
    assert "started" in done.stdout


def test_the_demo_makes_its_own(tmp_path):
    done = _run(["-c", IMPORT], tmp_path, SECRET_KEY="", PINGAN_DEMO="1")
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "secret_key").read_text().strip()) >= 50
