"""adapters/memory.py: only clean, read-only file pages are given back, and for real."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from posturewatch.adapters.memory import Mapping, drop_clean_file_pages, parse_smaps

SMAPS = """\
7f0000000000-7f0000002000 r-xp 00000000 08:01 123 /usr/lib/libfoo.so
Size:                  8 kB
Rss:                   8 kB
Anonymous:             0 kB
Swap:                  0 kB
7f0000002000-7f0000003000 r--p 00002000 08:01 123 /usr/lib/libfoo.so
Rss:                   4 kB
Anonymous:             4 kB
Swap:                  0 kB
7f0000003000-7f0000004000 rw-p 00003000 08:01 123 /usr/lib/libfoo.so
Rss:                   4 kB
Anonymous:             0 kB
7f0000004000-7f0000005000 rw-p 00000000 00:00 0
Rss:                   4 kB
Anonymous:             4 kB
7f0000005000-7f0000006000 r--s 00000000 00:05 9 /dev/shm/x
Rss:                   4 kB
Anonymous:             0 kB
7f0000006000-7f0000007000 r--p 00000000 08:01 77 /opt/model file.task (deleted)
Rss:                   4 kB
Anonymous:             0 kB
7f0000007000-7f0000008000 r--p 00000000 08:01 78 /opt/model.task
Rss:                   4 kB
Anonymous:             0 kB
Swap:                  4 kB
7f0000008000-7f000000a000 r--p 00000000 08:01 79 /opt/clean.task
Rss:                   0 kB
Anonymous:             0 kB
"""


def test_parse_smaps_reads_each_mapping():
    maps = parse_smaps(SMAPS)
    assert maps[0] == Mapping(0x7F0000000000, 0x7F0000002000, "r-xp", "/usr/lib/libfoo.so", 8, 0, 0)
    assert maps[5].path == "/opt/model file.task (deleted)"
    assert [m.path for m in maps][3] == ""


def test_only_clean_read_only_private_file_pages_are_droppable():
    # code: yes; relocated read-only data (anonymous copies): no; writable: no; anonymous
    # memory: no; a shared mapping of /dev/shm: no; a deleted file: no; swapped: no;
    # nothing resident: nothing to drop
    assert [m.droppable for m in parse_smaps(SMAPS)] == [True] + [False] * 7


def test_dropping_lowers_a_real_process_rss_and_it_keeps_working():
    """In a fresh interpreter that imported numpy: file pages go, and numpy still computes."""
    code = textwrap.dedent("""
        import numpy
        from posturewatch.adapters.memory import drop_clean_file_pages
        def rss_file():
            for line in open("/proc/self/status"):
                if line.startswith("RssFile:"):
                    return int(line.split()[1])
        before = rss_file()
        dropped = drop_clean_file_pages()
        after = rss_file()
        total = float(numpy.arange(1000.0).sum())
        print(before, dropped, after, total)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, dropped, after, total = out.stdout.split()
    assert int(dropped) > 1000, out.stdout  # numpy's and Python's code alone are several MB
    assert int(after) < int(before) - 1000, out.stdout
    assert float(total) == 499500.0


def test_no_smaps_is_no_error(tmp_path):
    assert drop_clean_file_pages(str(tmp_path / "missing")) == 0
