"""Who may do what: owners do everything; reviewers look, play, download, comment and give verdicts, but never
change the studio or spend GPU time; visitors (no login behind a login page, or MCP's loopback client when its
caller sent no cookie) get the login refusal and nothing else.

One guard for every event: a handler declares what it needs with `@reader`, `@reviewer_may("comment")` or
`@owner_only("run jobs")`, and `guard_events(demo, studio)` (called once the page is built) wraps every event of
the Blocks — page events and named API/MCP endpoints alike — so the role is checked before anything else runs,
its validator included. An event that declares nothing is owner-only: forgetting a mark refuses, never leaks.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import gradio as gr
from gradio.context import LocalContext

from ui.mcp_login import LOOPBACK_USER

OWNER, REVIEWER, VISITOR = "owner", "reviewer", "visitor"


ROLE_NOTES = {
    REVIEWER: "**Reviewer** — you can see every output and scene, play and download them, and leave comments and "
              "verdicts in **Jobs** and **Scenes** (or through the `comment` API). Running jobs and changing scenes "
              "is for the studio's owners.",
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


# -- the one guard --------------------------------------------------------------------------------------------------
F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_studio_access"
GUARDED_ATTR = "_studio_guarded"


@dataclass(frozen=True)
class Access:
    """Who may trigger an event, and what it does in words (for the refusal)."""
    roles: frozenset[str]
    doing: str


OWNERS = frozenset({OWNER})
READERS = frozenset({OWNER, REVIEWER})
DEFAULT = Access(OWNERS, "change the studio")


def _mark(access: Access) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        setattr(fn, ACCESS_ATTR, access)
        return fn
    return mark


def owner_only(doing: str) -> Callable[[F], F]:
    """Owners only: anything that changes the studio, starts or cancels work."""
    return _mark(Access(OWNERS, doing))


def reviewer_may(doing: str) -> Callable[[F], F]:
    """Owners and reviewers: a change a reviewer may make (a comment, a verdict)."""
    return _mark(Access(READERS, doing))


def reader(fn: F) -> F:
    """Owners and reviewers, reading only (lists, details, media): it must not create or write anything."""
    return _mark(Access(READERS, "see its jobs, cast and scenes"))(fn)


def access_of(fn: Callable[..., Any] | None) -> Access:
    return getattr(fn, ACCESS_ATTR, None) or DEFAULT


def refusal(role: str, access: Access) -> gr.Error | None:
    """The error for `role`, or None when the role may do it."""
    if role in access.roles:
        return None
    if role == REVIEWER:
        return gr.Error(f"Reviewers can look, play, download and comment, but cannot {access.doing}; "
                        "ask an owner of this studio.", print_exception=False)
    if access.roles == OWNERS:
        return gr.Error(f"Log in as an owner of this studio to {access.doing}.", print_exception=False)
    return gr.Error(f"Log in to this studio to {access.doing}.", print_exception=False)


def guarded(studio: Any, fn: F, access: Access) -> F:
    """`fn` behind the role check. The wrapper keeps the signature (Gradio reads it for event data and requests)
    and the kind of function (Gradio streams generators), so each kind gets a wrapper of its own."""
    def check() -> None:
        err = refusal(current_role(studio), access)
        if err is not None:
            raise err

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def agen(*args: Any, **kwargs: Any) -> Any:
            check()
            async for item in fn(*args, **kwargs):
                yield item
        wrapper: Any = agen
    elif inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            check()
            yield from fn(*args, **kwargs)
        wrapper = gen
    elif inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def coro(*args: Any, **kwargs: Any) -> Any:
            check()
            return await fn(*args, **kwargs)
        wrapper = coro
    else:
        @functools.wraps(fn)
        def plain(*args: Any, **kwargs: Any) -> Any:
            check()
            return fn(*args, **kwargs)
        wrapper = plain
    setattr(wrapper, GUARDED_ATTR, access)
    return wrapper


def _skip_validation(studio: Any, validator: Callable[..., Any], access: Access, n_inputs: int
                     ) -> Callable[..., Any]:
    """A validator that validates nothing (and reads no file) for a role the event refuses: every input passes, and
    the event itself then answers with the refusal, so the caller gets the same sentence as everywhere else."""
    @functools.wraps(validator)
    def validate(*args: Any, **kwargs: Any) -> Any:
        if current_role(studio) not in access.roles:
            return [gr.validate(True, "") for _ in range(n_inputs)]
        return validator(*args, **kwargs)
    setattr(validate, GUARDED_ATTR, access)
    return validate


def guard_events(demo: Any, studio: Any) -> int:
    """Put every event of `demo` behind its declared access (owner-only when it declares none); returns how many
    were guarded. Call once, after the whole page and the named API are built and before launch."""
    n = 0
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is None or getattr(fn, GUARDED_ATTR, None) is not None:
            continue
        access = access_of(fn)
        block_fn.fn = guarded(studio, fn, access)
        if block_fn.validator is not None:
            block_fn.validator = _skip_validation(studio, block_fn.validator, access, len(block_fn.inputs))
        n += 1
    return n
