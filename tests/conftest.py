"""Test-wide setup: test data locations, a private POSTUREWATCH_HOME, the pose-log cache.

- The sample clips and model bundles must be there (see tests/clips.py for where
  they are looked for); a test that needs them fails with the setting to fix.
- POSTUREWATCH_MODEL_DIR is set for the session when unset, so the CLI run
  in-process finds the shared models and never the network.
- Every test gets POSTUREWATCH_HOME=<its tmp dir>/home: nothing touches the
  real user's config, data, cache or runtime dirs.
- `clips.pose_log(name)` / `clips.observations(name)` (or the `pose_log_for` and
  `observations_for` fixtures) run MediaPipe on a clip once per session.
- Hypothesis runs the "ci" profile (bounded, seeded) unless HYPOTHESIS_PROFILE says otherwise.
"""

from __future__ import annotations

import os

import clips
import pytest
from hypothesis import HealthCheck, settings

# Fuzz tests (tests/test_fuzz.py): a bounded, seeded run by default, so the suite stays quick
# and CI repeatable; HYPOTHESIS_PROFILE=fuzz explores many more inputs, unseeded.
settings.register_profile(
    "ci", max_examples=60, deadline=None, database=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])
settings.register_profile("fuzz", settings.get_profile("ci"), max_examples=3000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    # Set even when the folder is missing: tests that need a model then fail naming it.
    if not os.environ.get(clips.MODEL_DIR_ENV):
        os.environ[clips.MODEL_DIR_ENV] = str(clips.REPO.parent / "shared" / "models")


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    for what, find in (("samples", clips.samples_dir), ("models", clips.models_dir)):
        try:
            lines.append(f"posturewatch {what}: {find()}")
        except clips.MissingTestData as exc:
            lines.append(f"posturewatch {what}: MISSING - {exc}")
    return lines


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch) -> str:
    """POSTUREWATCH_HOME for this test only."""
    home = str(tmp_path / "home")
    monkeypatch.setenv("POSTUREWATCH_HOME", home)
    return home


@pytest.fixture(scope="session", autouse=True)
def pose_cache(tmp_path_factory) -> clips.PoseCache:
    """The session's pose logs of the sample clips (made lazily, on first use)."""
    keep = os.environ.get(clips.CACHE_ENV)
    cache = clips.PoseCache(tmp_path_factory.mktemp("poselogs"), keep_dir=keep or None)
    clips.install(cache)
    yield cache
    clips.install(None)


@pytest.fixture(scope="session")
def pose_log_for(pose_cache):
    """`pose_log_for(name, fps=5.0) -> Path`: the clip's pose log, made once per session."""
    return pose_cache.pose_log


@pytest.fixture(scope="session")
def observations_for(pose_cache):
    """`observations_for(name, fps=5.0) -> tuple[Observation, ...]`."""
    return pose_cache.observations
