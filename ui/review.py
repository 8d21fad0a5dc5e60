"""Comments and verdicts on a job's outputs: anyone logged in (owners and reviewers) can read and add them."""
from __future__ import annotations

import datetime as dt
import html
from typing import Any

import gradio as gr

from backend.errors import BackendError
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


def build(studio: Any, selected: Any) -> None:
    """The review box under a selected job; `selected` holds the job id."""
    with gr.Group(elem_id="review"):
        thread = gr.HTML("", elem_id="review-thread", label="Comments")
        with gr.Row():
            text = gr.Textbox(label="Your comment", lines=2, max_lines=6, scale=4, elem_id="review-text",
                              placeholder="What works, what should change…")
            verdict = gr.Radio(CHOICES, value="", label="Verdict", scale=2, elem_id="review-verdict")
        post = gr.Button("Post comment", elem_id="review-post", size="sm")

    @roles.reader
    def show(job_id: str | None) -> str:
        return thread_html(studio.comments(job_id)) if job_id else ""

    @roles.reviewer_may("comment")
    def do_post(job_id: str | None, words: str, choice: str):
        if not job_id:
            raise gr.Error("Click a job in the table first.", print_exception=False)
        author = roles.current_user() or "owner"
        try:
            studio.comment(job_id, author, words, choice or None)
        except BackendError as err:
            raise gr.Error(err.message, print_exception=False) from None
        return show(job_id), "", ""

    selected.change(show, inputs=[selected], outputs=[thread], **jobrun.PRIVATE)
    post.click(do_post, inputs=[selected, text, verdict], outputs=[thread, text, verdict], **jobrun.PRIVATE)
