"""The background monitor, next to the one-shot commands in app/.

    run_cmd.py      `posturewatch run`: settings, then everything the loop needs, put together
    setup.py        the pieces: log file, session (profile, model), source, notifier, signals
    loop.py         Daemon: samples the source, feeds the session, hands events to the sinks,
                    serves the control socket between samples
    control_cmd.py  `start`, `stop`, `status`, `pause`, `resume`, `snooze`, `break`
    status.py       DaemonStatus: what `status` answers, JSON only at the control socket
    history_sink.py samples and events into the history file

    holding.py      the loop's side of the desktop's pauses (screen locked, suspend, camera busy)
    console.py      what `run` prints on stdout: what it watches, then state changes
    desktop.py      starts the desktop adapters; they send control commands through the socket
    tray_menu.py    what the tray icon shows and what its menu sends

The adapters themselves (D-Bus, screen lock, camera courtesy, tray, notification buttons)
live in adapters/: dbus.py, screen_lock.py, camera_use.py, tray.py, dbus_notify.py.
"""
