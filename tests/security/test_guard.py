"""The role guard itself (ui/roles.py), without a server: what it keeps of a handler and whom it refuses."""
from __future__ import annotations

import inspect
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio.context import LocalContext

from ui import roles

STUDIO = SimpleNamespace(settings=SimpleNamespace(reviewers={"rev"}, login_required=True))


def as_user(name: str | None):
    return LocalContext.request.set(SimpleNamespace(username=name))


def test_the_guard_keeps_what_gradio_reads_of_a_handler():
    @roles.reader
    def pick(choice: str, evt: gr.SelectData) -> str:
        """Doc."""
        return choice

    def stream(n: int):
        yield from range(n)

    for fn in (pick, stream):
        g = roles.guarded(STUDIO, fn, roles.access_of(fn))
        assert inspect.signature(g) == inspect.signature(fn) and g.__name__ == fn.__name__ and g.__doc__ == fn.__doc__
        assert inspect.isgeneratorfunction(g) == inspect.isgeneratorfunction(fn)


@pytest.mark.parametrize("user, mark, refused", [
    ("owner", roles.owner_only("run jobs"), None),
    ("rev", roles.owner_only("run jobs"), "Reviewers can look, play, download and comment, but cannot run jobs"),
    (roles.LOOPBACK_USER, roles.owner_only("run jobs"), "Log in as an owner of this studio to run jobs."),
    ("rev", roles.reviewer_may("comment"), None),
    (None, roles.reviewer_may("comment"), "Log in to this studio to comment."),
    (roles.LOOPBACK_USER, roles.reader, "Log in to this studio to see its jobs, cast and scenes."),
    ("rev", lambda fn: fn, "Reviewers can look, play, download and comment, but cannot change the studio"),
])
def test_each_role_gets_what_the_mark_allows_and_nothing_runs_before_the_check(user, mark, refused):
    ran = []

    def handler(x):
        ran.append(x)
        yield x

    g = roles.guarded(STUDIO, mark(handler), roles.access_of(handler))
    token = as_user(user)
    try:
        if refused is None:
            assert list(g(1)) == [1]
        else:
            with pytest.raises(gr.Error) as info:
                list(g(1))
            assert refused in str(info.value) and ran == []
    finally:
        LocalContext.request.reset(token)


def test_every_event_of_a_page_is_guarded_and_an_unmarked_one_is_owner_only():
    seen = []
    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(roles.reader(lambda t: t), inputs=[box], outputs=[box])
        gr.Button().click(lambda t: t, inputs=[box], outputs=[box],
                          validator=lambda t: seen.append(t) or [gr.validate(True, "")])
    assert roles.guard_events(demo, STUDIO) == 2
    assert roles.guard_events(demo, STUDIO) == 0                 # idempotent
    read, unmarked = (f for f in demo.fns.values())
    token = as_user("rev")
    try:
        assert read.fn("x") == "x"
        with pytest.raises(gr.Error):
            unmarked.fn("x")
        assert unmarked.validator("x")[0]["is_valid"] and seen == []    # no validation ran for a refused role
    finally:
        LocalContext.request.reset(token)
