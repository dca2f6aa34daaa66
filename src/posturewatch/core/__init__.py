"""The pure core: stdlib and numpy only; no clocks, no I/O, no heavy libraries.

Time is always an argument. `tests/test_architecture.py` imports this package
with cv2 and mediapipe blocked to keep it that way.
"""
