"""Run a command in a private mount namespace: a small tmpfs to fill up, or a hidden /run.

`unshare --mount` (util-linux) as root; `--map-root-user` as anyone else, where the
kernel allows user namespaces. The mounts vanish with the process, so a test can
never leave one behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

# Mount a tmpfs of $size at $mnt, copy $seed into it, optionally fill it up, run the
# command, then archive what the tmpfs holds (the filler excepted) to $tar.
FULL_DISK = r"""
set -e
mnt=$1 size=$2 seed=$3 tar=$4; shift 4
mount -t tmpfs -o "size=$size" tmpfs "$mnt"
cp -a "$seed/." "$mnt/"
if [ -n "$FILL" ]; then cat /dev/zero > "$mnt/.filler" 2>/dev/null || true; fi
set +e
"$@"
rc=$?
rm -f "$mnt/.filler"
tar -C "$mnt" -cf "$tar" .
exit $rc
"""


def unshare() -> list[str]:
    found = shutil.which("unshare")
    assert found, "these tests need `unshare` (Debian: apt-get install util-linux)"
    return [found, "--mount", "--propagation", "private"] + ([] if os.geteuid() == 0 else ["--map-root-user"])


def posturewatch(*argv) -> list[str]:
    return [sys.executable, "-m", "posturewatch", *map(str, argv)]


def on_full_disk(tmp: Path, command: list[str], *, size: str = "64k", fill: bool = True,
                 seed: dict[str, bytes] | None = None, env: dict | None = None
                 ) -> tuple[int, str, str, dict[str, bytes]]:
    """Run `command` with a tmpfs of `size` at tmp/disk (seeded, then filled when `fill`).

    Returns (exit status, stdout, stderr, {file name: content} left on that disk).
    """
    disk, seed_dir, tar = tmp / "disk", tmp / "seed", tmp / "disk.tar"
    disk.mkdir()
    seed_dir.mkdir()
    for name, data in (seed or {}).items():
        (seed_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (seed_dir / name).write_bytes(data)
    run_env = dict(os.environ if env is None else env, FILL="1" if fill else "")
    done = subprocess.run([*unshare(), "sh", "-c", FULL_DISK, "sh", disk, size, seed_dir, tar,
                           *map(str, command)], capture_output=True, text=True, timeout=300,
                          env=run_env)
    assert tar.is_file(), f"the tmpfs could not be set up:\n{done.stderr}"
    with tarfile.open(tar) as archive:
        left = {m.name.removeprefix("./"): archive.extractfile(m).read()
                for m in archive.getmembers() if m.isfile()}
    return done.returncode, done.stdout, done.stderr, left


def without_run_dir(command: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run `command` with an empty /run, so that /run/user/<uid> does not exist."""
    script = 'mount -t tmpfs tmpfs /run && exec "$@"'
    return subprocess.run([*unshare(), "sh", "-c", script, "sh", *map(str, command)],
                          capture_output=True, text=True, timeout=300, env=env)

