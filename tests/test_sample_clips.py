"""The sample clips: their index and label files, and what MediaPipe + our features see in them.

Expectations come from the label files (which frames are slouched, which are empty,
the labelled landmark positions and angles), never from numbers read off our own
output. Frames where the label file says a change is under way (`clips.held`) are
left out of the feature comparisons: ramps are gradual, and a half-done slouch
proves nothing either way.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import clips
import pytest

from posturewatch.adapters.labels import (CHANGE_MARGIN_S, LABELS, NOT_POOR, POOR, SEATED, Labels,
                                          labels_for, labels_path, read_labels, upright_opening)
from posturewatch.core.features import extract
from posturewatch.errors import BadLabels, InputNotFound, PostureWatchError

# --- the label file reader (no MediaPipe) ----------------------------------------------


def make(spec: str, fps: float = 10.0) -> Labels:
    """'upright:10 slouch:5' -> 10 s upright then 5 s slouch, one label per frame."""
    names = []
    for part in spec.split():
        label, seconds = part.split(":")
        names += [label] * round(float(seconds) * fps)
    return Labels(tuple(i / fps for i in range(len(names))), tuple(names))


def test_label_at_is_the_frame_at_or_before():
    labels = make("upright:1 slouch:1", fps=10)
    assert labels.label_at(0.0) == "upright"
    assert labels.label_at(0.95) == "upright"
    assert labels.label_at(1.0) == "slouch"  # the first slouch frame
    assert labels.label_at(1.04) == "slouch"
    assert labels.label_at(-1.0) == "upright" and labels.label_at(99.0) == "slouch"
    assert labels.end_s == pytest.approx(2.0)


@pytest.mark.parametrize("t,expected", [
    (5.0, False), (6.9, False),  # upright, more than 3 s before the slouch
    (7.0, None), (9.9, None), (10.0, None), (13.0, None),  # within 3 s of the change
    (13.1, True), (16.0, True),
    (17.5, None), (22.9, None),  # within 3 s of the recovery at 20 s
    (23.1, False),
    (31.0, False),  # head_down: not poor, and upright<->head_down is no poor change
    (36.0, None),  # standing: not scored
    (41.0, None),  # unknown: not scored
    (51.0, False),  # away is not poor
])
def test_scoring_convention(t, expected):
    labels = make("upright:10 slouch:10 upright:10 head_down:2 upright:3 standing:5 unknown:5 upright:5 away:10")
    assert labels.scored(t) is expected


def test_an_unscored_stretch_next_to_poor_posture_counts_as_a_change():
    # A cross-fade from a reclined (unknown) photo into a slouch is a ramp into poor posture too.
    labels = make("unknown:10 slouch:10")
    assert labels.scored(11.0) is None and labels.scored(14.0) is True


def test_every_label_is_poor_not_poor_or_unscored():
    assert POOR | NOT_POOR <= LABELS and not POOR & NOT_POOR
    assert LABELS - POOR - NOT_POOR == {"standing", "unknown"}
    assert SEATED == {"upright", "slouch", "lean_in", "lateral_lean", "head_down"}


@pytest.mark.parametrize("spec,opening", [
    ("upright:10 slouch:10", (0.0, 10.0 - CHANGE_MARGIN_S)),  # ends 3 s before poor posture
    ("upright:8 head_down:2 upright:10", (0.0, 7.0)),  # 1 s before anything else
    ("upright:8 away:10", (0.0, 7.0)),
    ("upright:15", (0.0, 15.0)),  # all upright: all of it
    ("slouch:5 upright:10", None),  # does not start upright
    ("upright:3 slouch:10", None),  # nothing left after the margin
    ("upright:1.4 head_down:3", None),  # under half a second left
])
def test_upright_opening(spec, opening):
    assert upright_opening(make(spec)) == opening


def test_spans_and_changes():
    labels = make("upright:2 slouch:3 upright:1", fps=10)
    assert labels.spans("slouch") == ((2.0, 5.0),)
    assert labels.spans("upright") == ((0.0, 2.0), (5.0, pytest.approx(6.0)))
    assert [(c.t, c.before, c.after) for c in labels.changes()] == [(2.0, "upright", "slouch"),
                                                                     (5.0, "slouch", "upright")]
    assert labels.present() == {"upright", "slouch"}


@pytest.mark.parametrize("times,names,why", [
    ((), (), "at least one frame"),
    ((0.0, 0.1), ("upright",), "one label per time"),
    ((0.0, 0.0), ("upright", "upright"), "strictly increase"),
    ((0.0,), ("sitting",), "unknown label"),
])
def test_labels_validate_on_construction(times, names, why):
    with pytest.raises(ValueError, match=why):
        Labels(times, names)


GOOD = "frame,time_s,label,extra\n0,0.000,upright,1\n1,0.100,upright,2\n2,0.200,slouch,3\n"


def write(tmp_path: Path, text: str | bytes, name: str = "clip.labels.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_read_labels_reads_the_first_three_columns(tmp_path):
    labels = read_labels(write(tmp_path, GOOD))
    assert labels == Labels((0.0, 0.1, 0.2), ("upright", "upright", "slouch"))


def test_read_labels_accepts_a_bom_crlf_and_a_trailing_blank_line(tmp_path):
    text = "\ufeff" + GOOD.replace("\n", "\r\n") + "\r\n"
    assert read_labels(write(tmp_path, text)).labels == ("upright", "upright", "slouch")


BROKEN = [
    ("empty file", "", 1, "empty"),
    ("wrong header", "frame,t,label\n0,0,upright\n", 1, "header"),
    ("header only", "frame,time_s,label\n", 2, "no frames"),
    ("unknown label", GOOD + "3,0.300,sitting,4\n", 5, "unknown label 'sitting'"),
    ("time not a number", GOOD.replace("0.100", "zero"), 3, "numbers"),
    ("missing frame", GOOD.replace("2,0.200", "3,0.200"), 4, "frame 3, expected 2"),
    ("time going backwards", GOOD.replace("0.200", "0.050"), 4, "does not come after"),
    ("truncated line", GOOD + "3,0.3", 5, "2 column(s)"),
    ("infinite time", GOOD.replace("0.200", "inf"), 4, "finite"),
]


@pytest.mark.parametrize("text,line,why", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_malformed_label_file_names_the_line(tmp_path, text, line, why):
    path = write(tmp_path, text)
    with pytest.raises(BadLabels) as raised:
        read_labels(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert why in str(raised.value)


def test_label_file_that_is_not_text(tmp_path):
    with pytest.raises(BadLabels, match="UTF-8"):
        read_labels(write(tmp_path, b"frame,time_s,label\n0,0,\xff\xfe\n"))


def test_bad_labels_has_its_own_exit_code():
    codes = [cls.exit_code for cls in PostureWatchError.__subclasses__()]
    assert BadLabels.exit_code == 13 and codes.count(13) == 1


def test_missing_label_files(tmp_path):
    with pytest.raises(InputNotFound, match="no such file"):
        read_labels(tmp_path / "nope.labels.csv")
    with pytest.raises(InputNotFound, match="directory"):
        read_labels(tmp_path)
    clip = tmp_path / "session.mp4"
    clip.touch()
    with pytest.raises(InputNotFound, match="session.labels.csv"):
        labels_for(clip)
    assert labels_path(clip) == tmp_path / "session.labels.csv"


# --- the sample clips and their index (no MediaPipe) ---------------------------------------


def test_the_index_lists_exactly_the_clips_in_the_samples_folder():
    on_disk = {p.stem for p in clips.samples_dir().glob("*.mp4")}
    assert set(clips.index()) == on_disk


@pytest.mark.parametrize("name", clips.names())
def test_index_entry_agrees_with_the_label_file(name):
    e, labels = clips.entry(name), clips.labels(name)
    assert e["kind"] == name.split("_")[0] and e["kind"] in {"render", "warp", "real"}
    assert set(e["labels"]) == labels.present()
    assert e["poor"] == bool(labels.present() & POOR)
    opening = upright_opening(labels)
    assert tuple(e["upright_opening"]) == opening if opening else "upright_opening" not in e
    # One label row per video frame, stamped frame / fps.
    assert e["frames"] == len(labels)
    assert labels.times == pytest.approx([i / e["fps"] for i in range(len(labels))], abs=1e-3)
    assert e["duration_s"] == pytest.approx(labels.end_s)
    assert e["license"] and e["source"]


def test_the_readme_gives_the_intel_attribution():
    readme = (clips.REPO / "sample_videos" / "README.md").read_text()
    assert "CC BY 4.0" in readme and "Intel" in readme and "POSTUREWATCH_SAMPLES" in readme


# --- what MediaPipe sees (the session's pose logs) ---------------------------------------------

MIN_FOUND = 0.95  # share of seated frames in which a person must be found
MAX_PHANTOM = 0.05  # share of empty frames in which one may be "found"
EDGE_S = 1.0  # around leaving and returning, the label flips while the person is half in view


def near_leaving(labels: Labels, t: float) -> bool:
    return any(abs(c.t - t) <= EDGE_S for c in labels.changes()
               if {"away", "standing"} & {c.before, c.after})


def frames_labelled(name: str, wanted: set[str]):
    labels = clips.labels(name)
    return [o for o in clips.observations(name)
            if labels.label_at(o.t) in wanted and clips.held(name, o.t) and not near_leaving(labels, o.t)]


@pytest.mark.video
@pytest.mark.parametrize("name", [n for n in clips.names() if SEATED & set(clips.entry(n)["labels"])])
def test_a_seated_person_is_found(name):
    frames = frames_labelled(name, SEATED)
    assert len(frames) >= 20
    missed = [round(o.t, 1) for o in frames if not o.present]
    assert 1 - len(missed) / len(frames) >= MIN_FOUND, f"no person found at {missed}"


# MediaPipe reports a small, confident "pose" on the background lights of
# warp_selfie_woman_leave_and_return's empty room (MANIFEST: a presence check must reject
# it); the presence rule does, without a profile: the "head" is too small to be at a desk,
# or it sits below its own shoulders.
@pytest.mark.video
@pytest.mark.parametrize("name", clips.names(containing="away"))
def test_nobody_is_found_in_an_empty_room(name):
    frames = frames_labelled(name, {"away"})
    assert len(frames) >= 10
    phantom = [round(o.t, 1) for o in frames if o.present]
    assert len(phantom) / len(frames) <= MAX_PHANTOM, f"a person 'found' at {phantom}"


def values(name: str, feature: str, start: float, end: float, label: str) -> list[float]:
    """The feature over held frames labelled `label` in [start, end)."""
    labels = clips.labels(name)
    got = [getattr(o.features, feature) for o in clips.observations(name)
           if o.present and start <= o.t < end and labels.label_at(o.t) == label and clips.held(name, o.t)]
    return [v for v in got if v is not None]


def truth_values(name: str, feature: str, start: float, end: float, label: str) -> list[float]:
    """The same feature measured on the landmark positions in the label file."""
    labels = clips.labels(name)
    got = [getattr(extract(pose), feature) for t, pose in clips.truth_poses(name)
           if pose is not None and start <= t < end and labels.label_at(t) == label and clips.held(name, t)]
    return [v for v in got if v is not None]


def upright(name: str, feature: str, truth: bool = False) -> list[float]:
    return (truth_values if truth else values)(name, feature, 0.0, 1e9, "upright")


def spread(vs: list[float]) -> float:
    """p10..p90 range: how much a feature wanders while the posture is held."""
    q = statistics.quantiles(vs, n=10)
    return q[-1] - q[0]


# A slouch must lower the head by more than 0.04 shoulder widths (about 1.5 cm for
# 40 cm shoulders) and more than the upright frames' own p10..p90 spread. In the
# clips where nobody changes posture the median moves by under 0.02 between the first
# and second half (test below), so 0.04 is beyond what sitting still produces.
HEAD_DROP_MARGIN = 0.04
SIDE_VIEW = "warp_nvinay_side_view_slideshow"  # shoulders overlap: ratios to their width mean nothing


@pytest.mark.video
@pytest.mark.parametrize("name", [n for n in clips.names(containing="slouch") if n != SIDE_VIEW])
@pytest.mark.parametrize("feature", ["head_drop_nose", "head_drop_ear"])
def test_slouching_lowers_the_head(name, feature):
    up = upright(name, feature)
    margin = max(HEAD_DROP_MARGIN, spread(up))
    for start, end in clips.labels(name).spans("slouch"):
        slouched = values(name, feature, start, end, "slouch")
        assert len(slouched) >= 10 and len(up) >= 10
        drop = statistics.median(up) - statistics.median(slouched)
        assert drop > margin, (f"slouch {start:.0f}-{end:.0f} s lowers {feature} by {drop:.3f}, "
                               f"expected more than {margin:.3f}")


# MediaPipe 0.10.30-0.10.33 moves her median by 0.021 (0.10.14-0.10.21 and 1.2: under 0.02).
STILL_MISSES = {"real_selfie_woman_upright"} if clips.mediapipe_c_api_build() else set()


@pytest.mark.video
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="MediaPipe 0.10.30-0.10.33"))
    if n in STILL_MISSES else n
    for n in clips.names() if clips.entry(n)["labels"] == ["upright"]])
def test_sitting_still_moves_the_head_drop_less_than_the_slouch_margin(name):
    frames = [o.features.head_drop_nose for o in clips.observations(name) if o.present]
    half = len(frames) // 2
    assert abs(statistics.median(frames[:half]) - statistics.median(frames[half:])) < HEAD_DROP_MARGIN / 2


@pytest.mark.video
@pytest.mark.parametrize("name", clips.names(containing="lean_in"))
@pytest.mark.parametrize("feature", ["shoulder_width", "face_width"])
def test_leaning_in_widens_shoulders_and_face(name, feature):
    """At least 5% wider, and at least half the widening of the labelled landmarks."""
    up, up_truth = statistics.median(upright(name, feature)), statistics.median(upright(name, feature, True))
    for start, end in clips.labels(name).spans("lean_in"):
        ratio = statistics.median(values(name, feature, start, end, "lean_in")) / up
        truth = statistics.median(truth_values(name, feature, start, end, "lean_in")) / up_truth
        assert truth > 1.05, "the label file should show the lean"
        assert ratio > max(1.05, 1 + 0.5 * (truth - 1)), \
            f"lean {start:.0f}-{end:.0f} s: {feature} x{ratio:.3f}, labelled x{truth:.3f}"


@pytest.mark.video
@pytest.mark.parametrize("name", clips.names(containing="lateral_lean"))
def test_leaning_sideways_tilts_the_shoulder_line(name):
    """Each lean moves the shoulder tilt by at least 3 degrees, the way the labelled landmarks tilt."""
    up = statistics.median(upright(name, "shoulder_tilt_deg"))
    up_truth = statistics.median(upright(name, "shoulder_tilt_deg", True))
    spans = clips.labels(name).spans("lateral_lean")
    assert len(spans) == 2  # one lean to each side
    for start, end in spans:
        moved = statistics.median(values(name, "shoulder_tilt_deg", start, end, "lateral_lean")) - up
        labelled = statistics.median(truth_values(name, "shoulder_tilt_deg", start, end, "lateral_lean")) - up_truth
        assert abs(labelled) >= 5, "the label file should show a lean of 5 degrees or more"
        assert abs(moved) >= 3 and (moved > 0) == (labelled > 0), \
            f"lean {start:.0f}-{end:.0f} s: tilt moved {moved:+.1f} deg, labelled {labelled:+.1f}"


def labelled_column(name: str, column: str, label: str) -> float:
    rows = [r for r in clips.label_rows(name) if r["label"] == label and r["transition"] == "0"]
    return statistics.median(float(r[column]) for r in rows)


@pytest.mark.video
def test_side_view_neck_inclines_when_slouched():
    """The slideshow labels the neck's inclination (ear over shoulder vs vertical) per photo."""
    name = SIDE_VIEW
    labelled_up = labelled_column(name, "neck_incl_deg", "upright")
    labelled_rise = labelled_column(name, "neck_incl_deg", "slouch") - labelled_up
    up = statistics.median(upright(name, "neck_inclination_deg"))
    assert abs(up - labelled_up) < 5
    for start, end in clips.labels(name).spans("slouch"):
        slouched = values(name, "neck_inclination_deg", start, end, "slouch")
        assert len(slouched) >= 10
        assert statistics.median(slouched) - up > 0.5 * labelled_rise
