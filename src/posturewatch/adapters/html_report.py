"""One self-contained HTML page: inline CSS and SVG, no script, no remote URL.

The page opens offline and can be mailed as one file. Text is escaped here;
the chart markup comes from adapters/charts.py. A page carries a generator
marker, so `write_report` may replace a previous posturewatch report in
place (a weekly `report --output week.html` just works) while any other
existing file needs --force.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Sequence

from .output import write_new

MARKER = '<meta name="generator" content="posturewatch report">'
STYLE = """
body{font-family:sans-serif;color:#333;max-width:960px;margin:24px auto;padding:0 16px;
     background:#fff;line-height:1.45}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #e4e6ea}
.sub{color:#666;margin-top:4px}.chart{display:block;margin:8px 0}
table{border-collapse:collapse;font-size:.92em}th,td{padding:3px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}tr:nth-child(even){background:#f6f7f9}
.legend{font-size:.9em}.key{margin-right:14px;white-space:nowrap}
.swatch{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px}
.note{color:#666;font-size:.9em}table+table{margin-top:12px}
"""


@dataclass(frozen=True)
class Section:
    title: str
    body: str  # markup: from the helpers below and from adapters/charts.py


def paragraph(text: str, css: str = "") -> str:
    cls = f' class="{escape(css)}"' if css else ""
    return f"<p{cls}>{escape(text)}</p>"


def bullets(items: Sequence[tuple[str, str]]) -> str:
    """(bold lead, text) items."""
    lis = "".join(f"<li><b>{escape(lead)}</b> {escape(text)}</li>" if lead else
                  f"<li>{escape(text)}</li>" for lead, text in items)
    return f"<ul>{lis}</ul>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table; without headers, a list of label / value rows."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    parts = [f"<section><h2>{escape(s.title)}</h2>{s.body}</section>" for s in sections]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" + MARKER
            + f"<meta name=\"viewport\" content=\"width=device-width\"><title>{escape(title)}</title>"
            + f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
            + f"<p class=\"sub\">{escape(subtitle)}</p>" + "".join(parts)
            + "</body></html>\n")


def is_report(path: Path) -> bool:
    """Whether `path` holds a page this module wrote (the marker in its head)."""
    try:
        with open(path, "rb") as f:
            head = f.read(2048)
    except OSError:
        return False
    return MARKER.encode() in head


def write_report(path: Path, html: str, force: bool = False) -> Path:
    return write_new(path, html, force=force, replaceable=is_report, what="report")
