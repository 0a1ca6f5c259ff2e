"""Markdown to safe HTML: the one place that touches ``markdown`` and ``nh3``.

Descriptions, notes and markdown artifacts are written by anyone who can push to the
repository, and the site is public: everything is rendered, then sanitised with nh3 (an
allow-list sanitiser), so no script, handler or ``javascript:`` URL survives. Images are
dropped too: the site's policy blocks other origins, and a relative path would resolve
differently on every page the text appears on.
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
