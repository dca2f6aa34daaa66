"""The background monitor, next to the one-shot commands in app/.

    run_cmd.py      `posturewatch run`: settings, then everything the loop needs, put together
    setup.py        the pieces: log file, session (profile, model), source, notifier, signals
    loop.py         Daemon: samples the source, feeds the session, hands events to the sinks,
                    serves the control socket between samples
    control_cmd.py  `start`, `stop`, `status`, `pause`, `resume`, `snooze`, `break`
    history_sink.py samples and events into the history file

Desktop integrations (tray, screen lock, camera courtesy, notification actions) are
wired here too, as adapters that turn OS happenings into the loop's control commands.
"""
