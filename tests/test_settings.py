"""Settings from a mapping: defaults, types, ranges, messages naming the key."""

from __future__ import annotations

import pytest

from posturewatch.core.settings import DEFAULTS, Settings, SettingsError, as_dict, validate


def test_defaults_are_documented_values():
    assert (DEFAULTS.fps, DEFAULTS.away_fps, DEFAULTS.break_after, DEFAULTS.break_away) == \
        (1.0, 0.2, 30.0, 120.0)
    assert DEFAULTS.break_after_s == 1800.0 and DEFAULTS.model == "lite"


def test_integers_become_floats_and_fractions_are_allowed():
    s = validate({"break_after": 1, "alert_after": 0.5})
    assert s.break_after == 1.0 and isinstance(s.break_after, float) and s.alert_after == 0.5


@pytest.mark.parametrize("mapping, message", [
    ({"brek_after": 3}, "brek_after: unknown setting"),
    ({"fps": "fast"}, "fps: expected a number, got 'fast'"),
    ({"fps": 0}, "fps: expected more than 0"),
    ({"break_after": -2}, "break_after: expected more than 0"),
    ({"realtime": "yes"}, "realtime: expected true or false"),
    ({"source": 3}, "source: expected a string"),
    ({"source": " "}, "source: expected a camera index"),
    ({"cooldown": True}, "cooldown: expected a number"),
    ({"brief_absence": 200}, "brief_absence: must be shorter than break_away"),
])
def test_bad_values_name_the_key_and_the_expected_value(mapping, message):
    with pytest.raises(SettingsError) as info:
        validate(mapping)
    assert message in str(info.value)


def test_settings_are_frozen_and_validated_on_construction():
    with pytest.raises(SettingsError):
        Settings(fps=-1.0)
    with pytest.raises(AttributeError):
        DEFAULTS.fps = 2.0  # type: ignore[misc]
    assert as_dict(validate({}, base=validate({"fps": 2.0})))["fps"] == 2.0
