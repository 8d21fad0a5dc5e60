"""Comments and verdicts on a job's outputs: anyone logged in (owners and reviewers) can read and add them."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

import gradio as gr

from backend.errors import BackendError
from backend.review import WHERE_HELP, Target, where_target
from ui import jobrun, roles

VERDICT_WORDS = {"approved": "✅ Approved", "needs_changes": "✏️ Needs changes"}
CHOICES = [("Comment only", ""), ("Approve", "approved"), ("Needs changes", "needs_changes")]
NEEDS_CHANGES = "needs changes"          # the Jobs tab's extra status filter


def thread_html(comments: list[dict[str, Any]]) -> str:
    if not comments:
        return "<p class='review-empty'>No comments yet.</p>"
    verdict = next((c["verdict"] for c in reversed(comments) if c.get("verdict")), None)
    head = f"<p class='review-verdict'><b>{VERDICT_WORDS[verdict]}</b></p>" if verdict else ""
    items = []
    for c in comments:
        when = dt.datetime.fromtimestamp(c["created_at"]).strftime("%d %b %H:%M")
        badge = f" — {VERDICT_WORDS[c['verdict']]}" if c.get("verdict") else ""
        text = html.escape(c.get("text") or "").replace("\n", "<br>")
        items.append(f"<li><b>{html.escape(c['author'])}</b> <small>{when}</small>{badge}<br>{text}</li>")
    return head + "<ul class='review-thread'>" + "".join(items) + "</ul>"


NO_JOB = "⚠ Comment: pick a job in the table above first; your comment is kept here until you post it."
NO_SCENE = "⚠ Comment: pick a saved scene first; your comment is kept here until you post it."


def note_html(text: str) -> str:
    return f"<div class='review-note'>{html.escape(text)}</div>" if text else ""


def build(studio: Any, selected: Any) -> None:
    """The review box under a selected job; `selected` holds the job id."""
    with gr.Group(elem_id="review"):
        thread = gr.HTML("", elem_id="review-thread", label="Comments")
        with gr.Row():
            text = gr.Textbox(label="Your comment", lines=2, max_lines=6, scale=4, elem_id="review-text",
                              placeholder="What works, what should change…")
            verdict = gr.Radio(CHOICES, value="", label="Verdict", scale=2, elem_id="review-verdict")
        post = gr.Button("Post comment", elem_id="review-post", size="sm")
        note = gr.HTML("", elem_id="review-note")

    @roles.reader
    def show(job_id: str | None) -> str:
        return thread_html(studio.comments(job_id)) if job_id else ""

    # A refusal is a note beside the button, never an error raised into the fields (which would turn them into
    # red "Error" badges until a reload): the comment typed so far stays.
    @roles.reviewer_may("comment")
    def do_post(job_id: str | None, words: str, choice: str):
        if not job_id:
            return gr.skip(), gr.skip(), gr.skip(), note_html(NO_JOB)
        author = roles.current_user() or "owner"
        try:
            studio.comment(job_id, author, words, choice or None)
        except BackendError as err:
            return gr.skip(), gr.skip(), gr.skip(), note_html("⚠ " + err.message)
        return show(job_id), "", "", ""

    selected.change(show, inputs=[selected], outputs=[thread], **jobrun.PRIVATE)
    post.click(do_post, inputs=[selected, text, verdict], outputs=[thread, text, verdict, note], **jobrun.PRIVATE)


def scene_thread_html(studio: Any, scene_id: str | None) -> str:
    """Every comment about a scene — the scene itself, its pages and panels, moments of its video — oldest first,
    each labelled with what it is about."""
    if not scene_id:
        return ""
    rows = [c for c in studio.comments() if Target.parse(c["target"]).scene_key() == f"scene:{scene_id}"]
    for c in rows:
        t = Target.parse(c["target"])
        where = (f"at {t.at_s:.1f} s" if t.kind == "time" else f"page {t.page}" if t.kind == "page"
                 else f"page {t.page}, panel {t.panel}" if t.kind == "panel" else "")
        if where:
            c["text"] = f"[{where}] {c.get('text') or ''}"
    return thread_html(rows)


def build_scene(studio: Any, scene_id: Any) -> None:
    """The review box of the Scenes tab: comments and verdicts on the scene, or on a moment of its video."""
    with gr.Accordion("Comments and verdicts", open=True, elem_id="scene-review"):
        thread = gr.HTML("", elem_id="scene-review-thread")
        with gr.Row():
            text = gr.Textbox(label="Your comment", lines=2, max_lines=6, scale=4, elem_id="scene-review-text",
                              placeholder="What works, what should change…")
            with gr.Column(scale=2, min_width=160):
                verdict = gr.Radio(CHOICES, value="", label="Verdict", elem_id="scene-review-verdict")
                # A Textbox, not a Number: Gradio 6 shows (and sends) an empty Number as 0, which pinned every
                # comment to the video's first second.
                at = gr.Textbox("", label="Where (empty = the whole scene; 12.5 = seconds into the video; "
                                "page 2; page 2 panel 3)", max_lines=1, placeholder="the whole scene",
                                elem_id="scene-review-at")
        post = gr.Button("Post comment", elem_id="scene-review-post", size="sm")
        note = gr.HTML("", elem_id="scene-review-note")

    @roles.reader
    def show(sid: str | None) -> str:
        return scene_thread_html(studio, sid)

    @roles.reviewer_may("comment")
    def do_post(sid: str | None, words: str, choice: str, at_s: str | float | None):
        if not sid or studio.scenes.get(sid) is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), note_html(NO_SCENE)
        where = str(at_s if at_s is not None else "").strip()
        try:
            target = where_target(sid, where)
        except BackendError:                # in the page's words, not the API's field names
            return (gr.skip(), gr.skip(), gr.skip(), gr.skip(),
                    note_html(f"⚠ Where: {where[:40]!r} is not a place in the scene — {WHERE_HELP}."))
        try:
            studio.comment(target.key(), roles.current_user() or "owner", words, choice or None)
        except BackendError as err:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), note_html("⚠ " + err.message)
        return show(sid), "", "", "", ""

    scene_id.change(show, inputs=[scene_id], outputs=[thread], **jobrun.PRIVATE)
    post.click(do_post, inputs=[scene_id, text, verdict, at], outputs=[thread, text, verdict, at, note],
               **jobrun.PRIVATE)
