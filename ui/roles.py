"""Who may do what: owners run jobs; reviewers look, play, download and comment, but never spend GPU time.

The page hides what a reviewer cannot do, and every handler that would create, cancel or re-run a job calls
`require_owner` first, so the named API and MCP refuse it too, before any job exists.
"""
from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.context import LocalContext

from ui.mcp_login import LOOPBACK_USER

OWNER, REVIEWER, VISITOR = "owner", "reviewer", "visitor"


ROLE_NOTES = {
    REVIEWER: "**Reviewer** — you can see every output and scene, play and download them, and leave comments and "
              "verdicts in **Jobs**. Running jobs is for the studio's owners.",
    VISITOR: "**Not logged in as an owner** — you can look around; running jobs needs an owner's login.",
}


def current_user() -> str | None:
    """The logged-in user of the request being handled (None without a login page)."""
    request = LocalContext.request.get(None)
    return getattr(request, "username", None) if request is not None else None


def role_of(settings: Any, user: str | None) -> str:
    if user == LOOPBACK_USER:            # MCP's own client, when its caller sent no login of theirs
        return VISITOR
    if user is not None and user in settings.reviewers:
        return REVIEWER
    if user is None and settings.login_required:
        return VISITOR
    return OWNER


def current_role(studio: Any) -> str:
    return role_of(studio.settings, current_user())


def require_owner(studio: Any, doing: str = "run jobs") -> None:
    role = current_role(studio)
    if role == REVIEWER:
        raise gr.Error(f"Reviewers can look, play, download and comment, but cannot {doing}; "
                       "ask an owner of this studio.", print_exception=False)
    if role == VISITOR:
        raise gr.Error(f"Log in as an owner of this studio to {doing}.", print_exception=False)
