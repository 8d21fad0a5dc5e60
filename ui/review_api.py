"""The named API (and MCP tools) for review: `comment` and `comments`, for owners and reviewers (visitors get the
login refusal from the role guard, ui/roles.py). Targets are backend.review.Target: a job, a scene, a page or panel
of a scene, or a moment of its video."""
from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import gradio as gr

from backend.errors import BackendError, InputError
from backend.review import KINDS, Target, make_target, verdict_of
from ui import roles

COMMENTS_LIMIT = 1000
VERDICT_OUT = {"approved": "approve", "needs_changes": "needs changes", None: "none"}


def refuse(message: str) -> gr.Error:
    print(f"studio api: refused: {message}", file=sys.stderr, flush=True)
    return gr.Error(message, print_exception=False)


def _iso(ts: float | None) -> str | None:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds") if ts else None


def comment_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "target": Target.parse(row["target"]).as_json(), "author": row["author"],
            "text": row["text"], "verdict": VERDICT_OUT.get(row.get("verdict"), "none"),
            "at": _iso(row["created_at"])}


def post(studio: Any, target: Target, text: str, verdict: str | None) -> dict[str, Any]:
    """Store one comment by the calling user on a target that exists."""
    if target.kind == "job":
        if studio.get(target.id) is None:
            raise InputError("target_id", f"no job {target.id!r} in the history")
    elif studio.scenes.get(target.id) is None:
        raise InputError("target_id", f"no scene {target.id!r} in this studio")
    return studio.comment(target.key(), roles.current_user() or "owner", text, verdict)


def comment_endpoint(studio: Any) -> Callable[..., dict[str, Any]]:
    @roles.reviewer_may("comment")
    def comment(target: str, target_id: str, text: str = "", verdict: str = "none", page: float | None = None,
                panel: float | None = None, at_s: float | None = None) -> dict[str, Any]:
        """Comment on a job, a scene, a page or panel of a scene, or a moment of a scene's video, with a verdict.

        Owners and reviewers may call it. A job's id is in the `jobs` tool's answer; a scene's in `comments`'
        answers and the Scenes tab.

        Args:
            target: What the comment is about: "job", "scene", "page", "panel" or "time" (a moment of the scene's
                video). Required.
            target_id: The job's id (target "job") or the scene's id (every other target). Required.
            text: The comment (at most 4000 characters); may be empty when a verdict is given.
            verdict: "approve", "needs changes" or "none" (a comment only). Default: "none".
            page: For "page" and "panel": the page number, from 1.
            panel: For "panel": the panel number on that page, from 1.
            at_s: For "time": seconds from the start of the scene's video (0.1 s precision).

        Returns:
            The stored comment: id, target, author, text, verdict and at (ISO 8601, UTC).
        """
        try:
            t = make_target(target, target_id, page, panel, at_s)
            row = post(studio, t, text, verdict_of(verdict))
        except BackendError as err:
            raise refuse(err.message) from None
        return comment_json(row)

    return comment


def comments_endpoint(studio: Any) -> Callable[..., list[dict[str, Any]]]:
    @roles.reader
    def comments(target: str = "", target_id: str = "", verdict: str = "", limit: float = 200
                 ) -> list[dict[str, Any]]:
        """Comments and verdicts, newest first, filtered by target and verdict. Owners and reviewers may call it.

        Args:
            target: Only comments on this kind of target: "job", "scene", "page", "panel" or "time" (empty: all).
            target_id: Only comments about this job, or this scene (a scene's id also matches its pages, panels
                and moments).
            verdict: Only comments with this verdict: "approve", "needs changes" or "none" (no verdict); empty:
                all. "needs changes" lists what is left to work through.
            limit: At most this many comments (1–1000, default 200).

        Returns:
            A JSON list of comments: id, target (kind and job or scene, page, panel, at_s), author, text, verdict
            and at (ISO 8601, UTC).
        """
        kind = (target or "").strip().lower()
        try:
            if kind and kind not in KINDS:
                raise InputError("target", f"{target!r} is not a target; use one of {', '.join(KINDS)}, or "
                                           "leave it empty")
            wanted = verdict_of(verdict) if (verdict or "").strip() else ...
            try:
                n = int(limit)
            except (TypeError, ValueError):
                raise InputError("limit", f"must be a whole number from 1 to {COMMENTS_LIMIT}") from None
            if not 1 <= n <= COMMENTS_LIMIT:
                raise InputError("limit", f"{n} is outside 1–{COMMENTS_LIMIT}")
        except BackendError as err:
            raise refuse(err.message) from None
        wanted_id = (target_id or "").strip()
        out = []
        for row in reversed(studio.comments()):
            t = Target.parse(row["target"])
            if kind and t.kind != kind:
                continue
            if wanted_id and t.id != wanted_id:
                continue
            if wanted is not ... and row.get("verdict") != wanted:
                continue
            out.append(comment_json(row))
            if len(out) >= n:
                break
        return out

    return comments


def build(studio: Any) -> None:
    """Hidden components carrying `comment` and `comments` (must be called inside the Blocks)."""
    with gr.Column(visible=False):
        ins = [gr.Textbox(visible=False), gr.Textbox(visible=False), gr.Textbox(visible=False, value=""),
               gr.Textbox(visible=False, value="none"), gr.Number(visible=False, value=None),
               gr.Number(visible=False, value=None), gr.Number(visible=False, value=None)]
        gr.Button(visible=False).click(comment_endpoint(studio), inputs=ins, outputs=[gr.JSON(visible=False)],
                                       api_name="comment", concurrency_limit=None)
        filters = [gr.Textbox(visible=False, value=""), gr.Textbox(visible=False, value=""),
                   gr.Textbox(visible=False, value=""), gr.Number(visible=False, value=200)]
        gr.Button(visible=False).click(comments_endpoint(studio), inputs=filters, outputs=[gr.JSON(visible=False)],
                                       api_name="comments", concurrency_limit=None)
