"""What a comment or a verdict is about: a job, a scene, a page or panel of a scene, or a moment of a scene's video.

The comments table keeps one `target` string per comment (backend/history.py). A job's is its bare id, as it has
always been, so older rows stay readable; the other kinds are spelt from the scene's id:

    <job id>                            a job's outputs
    scene:<scene id>                    a scene
    scene:<scene id>@<seconds>          a moment of the scene's video (seconds from its start, 0.1 s precision)
    scene:<scene id>/page:<n>           a page of the scene (1-based)
    scene:<scene id>/page:<n>/panel:<m> a panel of that page (1-based)

`Target` is that address as a typed value, validated once at the edge (the named API, the page); `key()` and
`Target.parse()` turn it into the stored string and back.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from backend.errors import InputError

KINDS = ("job", "scene", "page", "panel", "time")
# Verdicts as callers may write them → as the history stores them (None: a comment without a verdict).
VERDICT_WORDS = {"approve": "approved", "approved": "approved", "needs changes": "needs_changes",
                 "needs_changes": "needs_changes", "none": None, "": None}
MAX_SECONDS = 24 * 3600
MAX_PAGE = 999
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KEY = re.compile(r"^scene:(?P<scene>[A-Za-z0-9_-]{1,64})"
                  r"(?:@(?P<at>[0-9]+(?:\.[0-9])?)|/page:(?P<page>[0-9]{1,3})(?:/panel:(?P<panel>[0-9]{1,3}))?)?$")


@dataclass(frozen=True)
class Target:
    kind: str                      # one of KINDS
    id: str                        # the job's id, or the scene's
    page: int | None = None        # page and panel: 1-based
    panel: int | None = None
    at_s: float | None = None      # time: seconds from the start of the scene's video

    def key(self) -> str:
        if self.kind == "job":
            return self.id
        base = f"scene:{self.id}"
        if self.kind == "time":
            return f"{base}@{self.at_s:.1f}"
        if self.kind == "page":
            return f"{base}/page:{self.page}"
        if self.kind == "panel":
            return f"{base}/page:{self.page}/panel:{self.panel}"
        return base

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, ("job" if self.kind == "job" else "scene"): self.id}
        if self.kind in ("page", "panel"):
            out["page"] = self.page
        if self.kind == "panel":
            out["panel"] = self.panel
        if self.kind == "time":
            out["at_s"] = self.at_s
        return out

    @classmethod
    def parse(cls, key: str) -> Target:
        """A stored target string as a Target (anything that is not a scene address is a job id)."""
        m = _KEY.match(key or "")
        if m is None:
            return cls("job", key)
        scene = m["scene"]
        if m["at"] is not None:
            return cls("time", scene, at_s=float(m["at"]))
        if m["panel"] is not None:
            return cls("panel", scene, page=int(m["page"]), panel=int(m["panel"]))
        if m["page"] is not None:
            return cls("page", scene, page=int(m["page"]))
        return cls("scene", scene)

    def scene_key(self) -> str | None:
        """The scene's own target string (for "everything about this scene"), None for a job."""
        return None if self.kind == "job" else f"scene:{self.id}"


def _whole(field: str, value: object, low: int, high: int) -> int:
    try:
        n = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(field, f"must be a whole number from {low} to {high}") from None
    if not math.isfinite(n) or n != int(n) or not low <= n <= high:
        raise InputError(field, f"{value!r} is not a whole number from {low} to {high}")
    return int(n)


def make_target(kind: str, id: str, page: object = None, panel: object = None, at_s: object = None) -> Target:
    """A Target from an API caller's fields, checked field by field (existence is the caller's to check)."""
    kind = (kind or "").strip().lower()
    if kind not in KINDS:
        raise InputError("target", f"{kind!r} is not a target; use one of {', '.join(KINDS)}")
    id = (id or "").strip()
    what = "job" if kind == "job" else "scene"
    if not _ID.match(id):
        raise InputError(what, f"is required: the {what}'s id (letters, digits, - and _)")
    if kind == "time":
        try:
            seconds = float(at_s)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError("at_s", "is required for a time: seconds from the start of the video") from None
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
            raise InputError("at_s", f"{at_s!r} is not a time from 0 to {MAX_SECONDS} seconds")
        return Target("time", id, at_s=round(seconds, 1))
    if kind in ("page", "panel"):
        p = _whole("page", page, 1, MAX_PAGE)
        if kind == "panel":
            return Target("panel", id, page=p, panel=_whole("panel", panel, 1, MAX_PAGE))
        return Target("page", id, page=p)
    return Target(kind, id)


_WHERE_PAGE = re.compile(r"^p(?:age)?\s*(\d+)(?:\s*[,/]?\s*(?:panel|pnl|p)?\s*(\d+))?$")
_WHERE_TIME = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)?$")
WHERE_HELP = ("empty = the whole scene; a time in seconds into the video (12.5); a page (page 2); or a panel "
              "(page 2 panel 3)")


def where_target(scene_id: str, where: object) -> Target:
    """What a comment written on the Scenes page is about, from its "Where" field (WHERE_HELP)."""
    text = " ".join(str(where or "").strip().lower().split())
    if not text:
        return make_target("scene", scene_id)
    m = _WHERE_TIME.match(text)
    if m:
        return make_target("time", scene_id, at_s=m.group(1))
    m = _WHERE_PAGE.match(text.replace("panel", " panel "))
    if m:
        page, panel = m.group(1), m.group(2)
        return (make_target("panel", scene_id, page=page, panel=panel) if panel
                else make_target("page", scene_id, page=page))
    raise InputError("where", f"{str(where)[:40]!r} is not a place in the scene: {WHERE_HELP}")


def verdict_of(word: object) -> str | None:
    """A verdict as a caller writes it ("approve", "needs changes", "none") → as stored."""
    key = str(word or "").strip().lower()
    if key not in VERDICT_WORDS:
        raise InputError("verdict", f"{word!r} is not a verdict; use approve, needs changes or none")
    return VERDICT_WORDS[key]
