"""Frame sources: sampling, windows, downscaling, and live sources that fail.

Expected counts come from the clips' own frame rates and lengths (the label
files have one row per frame), not from the code's output.
"""

from __future__ import annotations

import itertools

import clips
import numpy as np
import pytest

from posturewatch.adapters.video import (DEFAULT_MAX_WIDTH, LiveSource, VideoFileSource, downscale,
                                         is_live, open_source)
from posturewatch.core.sampling import FrameSampler
from posturewatch.errors import BadVideo, CameraError, InputNotFound

STEADY = "render_m1_upright_steady"  # 10 fps, 150 frames, 640x480
WARP = "warp_intel_woman_upright_steady"  # 12.5 fps, 400 frames, 480x270
LARGE = "real_side_man_seated_stands"  # 30 fps, 950x810


def frames_of(source) -> list:
    try:
        return list(source)
    finally:
        source.close()


# --- FrameSampler ------------------------------------------------------------------


def sample(fps: float, times) -> list[float]:
    sampler = FrameSampler(fps)
    return [t for t in times if sampler.wants(t)]


def test_sampler_fps_zero_keeps_every_frame():
    times = [i / 30 for i in range(90)]
    assert sample(0, times) == times


def test_sampler_keeps_one_frame_per_period():
    times = [i / 30 for i in range(300)]  # 10 s at 30 fps
    kept = sample(5, times)
    assert len(kept) == 50
    assert np.allclose(np.diff(kept), 0.2)


def test_sampler_does_not_drift_on_uneven_rates():
    times = [i / 12.5 for i in range(1250)]  # 100 s at 12.5 fps: 0.2 s is not a multiple of 0.08 s
    kept = sample(5, times)
    assert len(kept) == pytest.approx(500, abs=1)
    gaps = np.diff(kept)
    assert gaps.min() >= 0.16 - 1e-9 and gaps.max() <= 0.24 + 1e-9  # never off by more than a frame


def test_sampler_restarts_after_a_gap():
    assert sample(5, [0.0, 0.2, 5.0, 5.1, 5.2, 5.4]) == [0.0, 0.2, 5.0, 5.2, 5.4]


def test_sampler_rejects_negative_fps():
    with pytest.raises(ValueError, match="fps"):
        FrameSampler(-1)


# --- VideoFileSource ------------------------------------------------------------------


def test_every_frame_at_fps_zero_stamped_by_position():
    labels = clips.labels(STEADY)
    frames = frames_of(VideoFileSource(clips.video(STEADY), fps=0))
    assert len(frames) == len(labels)
    assert [f.index for f in frames] == list(range(len(labels)))
    assert [f.t for f in frames] == pytest.approx(list(labels.times))
    assert frames[0].image.shape == (480, 640, 3) and frames[0].image.dtype == np.uint8


def test_five_fps_from_a_ten_fps_clip_keeps_every_second_frame():
    frames = frames_of(VideoFileSource(clips.video(STEADY), fps=5))
    assert [f.index for f in frames] == list(range(0, 150, 2))
    assert [f.t for f in frames] == pytest.approx([i / 10 for i in range(0, 150, 2)])


def test_five_fps_from_a_12_5_fps_clip():
    labels = clips.labels(WARP)
    frames = frames_of(VideoFileSource(clips.video(WARP), fps=5))
    assert len(frames) == pytest.approx(labels.end_s * 5, abs=1)
    gaps = np.diff([f.t for f in frames])
    assert gaps.min() >= 0.16 - 1e-9 and gaps.max() <= 0.24 + 1e-9
    for f in frames:  # each frame's time is its position in the video
        assert f.t == pytest.approx(labels.times[f.index])


def test_info_describes_the_file():
    source = VideoFileSource(clips.video(WARP))
    source.close()
    e = clips.entry(WARP)
    assert (source.info.fps, source.info.frame_count) == (12.5, len(clips.labels(WARP)))
    assert (source.info.width, source.info.height) == (e["width"], e["height"])
    assert source.info.duration_s == pytest.approx(e["duration_s"])
    assert not source.info.is_live


@pytest.mark.parametrize("start,end,first,last", [
    (2.0, 4.0, 20, 39),  # [start, end): frames 20..39 of a 10 fps clip
    (0.0, 1.0, 0, 9),
    (14.0, None, 140, 149),  # to the end
    (12.0, 99.0, 120, 149),  # an end past the clip stops at its end
])
def test_start_and_end_window(start, end, first, last):
    frames = frames_of(VideoFileSource(clips.video(STEADY), fps=0, start=start, end=end))
    assert [f.index for f in frames] == list(range(first, last + 1))
    assert frames[0].t == pytest.approx(first / 10)


def test_window_with_sampling():
    frames = frames_of(VideoFileSource(clips.video(STEADY), fps=2, start=3.0, end=6.0))
    assert [f.t for f in frames] == pytest.approx([3.0, 3.5, 4.0, 4.5, 5.0, 5.5])


def test_start_past_the_end_gives_no_frames():
    assert frames_of(VideoFileSource(clips.video(STEADY), start=20.0)) == []


def test_frames_wider_than_max_width_are_downscaled_keeping_the_aspect():
    source = VideoFileSource(clips.video(LARGE), fps=5, end=0.5, max_width=640)
    frames = frames_of(source)
    assert source.info.width == 950  # info keeps the file's own size
    assert frames[0].image.shape == (round(810 * 640 / 950), 640, 3)


@pytest.mark.parametrize("max_width", [0, DEFAULT_MAX_WIDTH])
def test_max_width_zero_or_the_default_keeps_a_950_wide_video_as_it_is(max_width):
    frames = frames_of(VideoFileSource(clips.video(LARGE), fps=5, end=0.2, max_width=max_width))
    assert frames[0].image.shape == (810, 950, 3)


def test_downscale_leaves_small_images_alone():
    image = np.zeros((240, 320, 3), np.uint8)
    assert downscale(image, 640) is image
    assert downscale(np.zeros((100, 1000, 3), np.uint8), 500).shape == (50, 500, 3)


def test_missing_and_bad_files(tmp_path):
    with pytest.raises(InputNotFound, match="no such file"):
        VideoFileSource(tmp_path / "nope.mp4")
    with pytest.raises(InputNotFound, match="directory"):
        VideoFileSource(tmp_path)
    (tmp_path / "empty.mp4").touch()
    with pytest.raises(BadVideo, match="empty"):
        VideoFileSource(tmp_path / "empty.mp4")
    (tmp_path / "text.mp4").write_text("not a video\n" * 100)
    with pytest.raises(BadVideo):
        VideoFileSource(tmp_path / "text.mp4")


@pytest.mark.parametrize("clip,why", [(STEADY, "not a video OpenCV can read"),
                                      (WARP, "stops at frame .* truncated")],
                         ids=["index-at-end", "index-at-start"])
def test_truncated_file_is_bad_video(tmp_path, clip, why):
    """Half a file: with the mp4 index at the end it does not open; with it at the start
    (faststart) it opens and stops half way. Either way: BadVideo, never a short result."""
    data = clips.video(clip).read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadVideo, match=f"half.mp4: .*{why}"):
        frames_of(VideoFileSource(half, fps=5))



# --- read on demand (the daemon) -----------------------------------------------------


def test_a_file_read_on_demand_gives_the_frame_at_due_in_its_own_time():
    source = VideoFileSource(clips.video(STEADY))  # 10 fps, 150 frames
    try:
        got = [source.read(due) for due in (0.0, 1.0, 1.02, 1.05, 2.07, 7.3)]
        # The nearest frame, but never one twice, never going back.
        assert [f.index for f in got] == [0, 10, 11, 12, 21, 73]
        assert [f.t for f in got] == pytest.approx([0.0, 1.0, 1.1, 1.2, 2.1, 7.3])
        assert source.read(14.9).index == 149 and source.read(15.0) is None  # the end
    finally:
        source.close()


def test_a_released_file_reopens_at_due_with_the_same_pixels():
    every = {f.index: f.image for f in frames_of(VideoFileSource(clips.video(STEADY), start=4.0,
                                                               end=6.0))}
    source = VideoFileSource(clips.video(STEADY))
    try:
        first = source.read(4.0)
        source.release()
        assert source.cap is None
        again = source.read(5.5)
    finally:
        source.close()
    assert (first.index, again.index) == (40, 55)
    assert np.array_equal(first.image, every[40]) and np.array_equal(again.image, every[55])


def test_a_truncated_file_read_on_demand_is_bad_video(tmp_path):
    data = clips.video(WARP).read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    source = VideoFileSource(half)
    try:
        with pytest.raises(BadVideo, match="half.mp4: the video stops at frame .* truncated"):
            source.read(30.0)  # the clip is 32 s long; the half file stops near 16 s
    finally:
        source.close()

# --- live sources ------------------------------------------------------------------------


class FakeCapture:
    """A cv2.VideoCapture stand-in: delivers `frames` images, then fails."""

    def __init__(self, opened=True, frames=3, size=(480, 640)):
        self.opened, self.left, self.size = opened, frames, size
        self.released = False

    def isOpened(self):
        return self.opened

    def get(self, prop):
        return 0.0

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.zeros((*self.size, 3), np.uint8)

    def release(self):
        self.released = True


def ticking(step: float, start: float = 100.0):
    counter = itertools.count()
    return lambda: start + step * next(counter)


def test_a_camera_that_does_not_open_is_a_camera_error():
    with pytest.raises(CameraError, match="cannot open camera or stream '0'"):
        LiveSource("0", capture=lambda spec: FakeCapture(opened=False))


def test_a_camera_that_stops_delivering_is_a_camera_error():
    capture = FakeCapture(frames=3)
    source = LiveSource("0", clock=ticking(0.1), capture=lambda spec: capture)
    got = []
    with pytest.raises(CameraError, match="stopped delivering"):
        for frame in source:
            got.append(frame)
    assert [f.t for f in got] == pytest.approx([100.0, 100.1, 100.2])
    assert [f.index for f in got] == [0, 1, 2]
    assert capture.released and source.cap is None  # a camera that failed is let go at once


def test_live_frames_are_stamped_by_the_clock_and_sampled():
    source = LiveSource("/dev/video9", fps=5, clock=ticking(0.1), capture=lambda spec: FakeCapture(frames=10))
    got = []
    with pytest.raises(CameraError):
        got.extend(source)
    assert [f.t for f in got] == pytest.approx([100.0, 100.2, 100.4, 100.6, 100.8])
    assert source.info.is_live and source.info.path == "/dev/video9"


def test_live_frames_are_downscaled():
    source = LiveSource("0", clock=ticking(0.1), capture=lambda spec: FakeCapture(frames=1, size=(1440, 2560)))
    assert next(iter(source)).image.shape == (720, DEFAULT_MAX_WIDTH, 3)


def test_a_video_file_as_the_stream_uses_the_clock_then_ends_as_a_camera_error():
    """A stream is anything OpenCV opens: here the clip itself, played as if live."""
    n = len(clips.labels(STEADY))
    source = LiveSource(str(clips.video(STEADY)), clock=ticking(0.04, start=7.0))
    got = []
    with pytest.raises(CameraError, match="stopped delivering"):
        got.extend(source)
    source.close()
    assert len(got) == n
    assert got[-1].t == pytest.approx(7.0 + 0.04 * (n - 1))  # the clock's time, not the file's
    assert source.info.frame_count == 0 and source.info.width == 640


@pytest.mark.parametrize("spec,live", [("0", True), ("2", True), ("/dev/video0", True),
                                       ("rtsp://cam.local/stream", True), ("http://x/y.mjpg", True),
                                       ("clip.mp4", False), ("/tmp/0.mp4", False)])
def test_is_live(spec, live):
    assert is_live(spec) is live


def test_open_source_picks_a_file_source_for_a_path():
    source = open_source(str(clips.video(STEADY)), fps=5, start=1.0, end=2.0)
    assert isinstance(source, VideoFileSource)
    assert [f.index for f in frames_of(source)] == [10, 12, 14, 16, 18]
