"""settings: the one switch for quick mode, and where notebooks save what they trained."""

from pathlib import Path

import pytest

from gan_helpers import settings


@pytest.mark.parametrize("value, quick", [("1", True), ("yes", True), ("", False), ("0", False),
                                          ("false", False), ("No", False)])
def test_quick_mode_reads_its_environment_variable(monkeypatch, value, quick):
    monkeypatch.setenv(settings.QUICK_ENV, value)
    assert settings.quick_mode() is quick


def test_quick_runs_are_saved_apart_from_real_ones(monkeypatch):
    monkeypatch.delenv(settings.RUNS_ENV, raising=False)  # the suite sets it for each notebook
    monkeypatch.setenv(settings.QUICK_ENV, "0")
    assert settings.run_dir("05_vanilla_gan") == Path("runs") / "05_vanilla_gan"
    monkeypatch.setenv(settings.QUICK_ENV, "1")
    assert settings.run_dir("05_vanilla_gan") == Path("runs") / "quick" / "05_vanilla_gan"


def test_another_folder_of_runs_is_named_by_its_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.RUNS_ENV, str(tmp_path))
    monkeypatch.setenv(settings.QUICK_ENV, "1")
    assert settings.run_dir("07_dcgan") == tmp_path / "quick" / "07_dcgan"


def test_quick_limit_caps_only_in_quick_mode(monkeypatch):
    monkeypatch.setenv(settings.QUICK_ENV, "0")
    assert settings.quick_limit(None) is None and settings.quick_limit(60000) == 60000
    monkeypatch.setenv(settings.QUICK_ENV, "1")
    assert settings.quick_limit(None) == settings.QUICK_MAX_EXAMPLES
    assert settings.quick_limit(60000) == settings.QUICK_MAX_EXAMPLES and settings.quick_limit(10) == 10
    assert settings.quick_limit(5000, most=settings.QUICK_MAX_SCORED) == settings.QUICK_MAX_SCORED
    assert list(range(5000))[: settings.quick_limit()] == list(range(settings.QUICK_MAX_EXAMPLES))


@pytest.mark.parametrize("value, steps", [(None, 20), ("", 20), ("2", 2), (" 7 ", 7)])
def test_quick_steps_read_their_environment_variable(monkeypatch, value, steps):
    if value is None:
        monkeypatch.delenv(settings.QUICK_STEPS_ENV, raising=False)
    else:
        monkeypatch.setenv(settings.QUICK_STEPS_ENV, value)
    assert settings.quick_steps_from_environment() == steps


@pytest.mark.parametrize("value", ["0", "-3", "two", "2.5"])
def test_a_wrong_number_of_quick_steps_says_what_to_set(monkeypatch, value):
    monkeypatch.setenv(settings.QUICK_STEPS_ENV, value)
    with pytest.raises(ValueError, match=f"GAN_COURSE_QUICK_STEPS='{value}' is not a number of train steps"):
        settings.quick_steps_from_environment()
