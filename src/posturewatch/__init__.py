"""posturewatch: a webcam posture and break monitor that runs on your own machine."""

__version__ = "0.1.0"
