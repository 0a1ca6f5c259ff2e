"""Markdown to safe HTML: the one place that touches ``markdown`` and ``nh3``.

Descriptions, notes and markdown artifacts are written by anyone who can push to the
repository, and the site is public: everything is rendered, then sanitised with nh3 (an
allow-list sanitiser), so no script, handler or ``javascript:`` URL survives.
"""

from __future__ import annotations

import markdown as md
import nh3

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
}
_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]


def render(text: str | None) -> str:
    """Sanitised HTML for markdown ``text`` (empty string for none)."""
    if not text:
        return ""
    html = md.markdown(text, extensions=_EXTENSIONS, output_format="html")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
