"""backend/review.py: a comment's target as a typed value and as the string the comments table keeps."""
from __future__ import annotations

import pytest

from backend.errors import InputError
from backend.review import Target, make_target, verdict_of


@pytest.mark.parametrize("target, key", [
    (make_target("job", "3e49096076814f95a04ffe473d76b016"), "3e49096076814f95a04ffe473d76b016"),
    (make_target("scene", "a1b2c3d4e5f6"), "scene:a1b2c3d4e5f6"),
    (make_target("time", "a1b2c3d4e5f6", at_s=12.34), "scene:a1b2c3d4e5f6@12.3"),
    (make_target("page", "a1b2c3d4e5f6", page=2), "scene:a1b2c3d4e5f6/page:2"),
    (make_target("panel", "a1b2c3d4e5f6", page=2.0, panel="3"), "scene:a1b2c3d4e5f6/page:2/panel:3"),
])
def test_a_target_is_stored_as_one_string_and_read_back_the_same(target, key):
    assert target.key() == key and Target.parse(key) == target


def test_older_comments_on_jobs_and_scenes_read_as_before():
    assert Target.parse("0f9e8d7c6b5a") == Target("job", "0f9e8d7c6b5a")
    assert Target.parse("scene:0f9e8d7c6b5a").scene_key() == "scene:0f9e8d7c6b5a"
    assert Target.parse("scene:x@4.5").scene_key() == "scene:x"


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "frame", "id": "abc"}, "target: 'frame' is not a target"),
    ({"kind": "scene", "id": "../etc"}, "scene: is required"),
    ({"kind": "time", "id": "abc"}, "at_s: is required for a time"),
    ({"kind": "time", "id": "abc", "at_s": -1}, "at_s: -1 is not a time from 0 to 86400 seconds"),
    ({"kind": "time", "id": "abc", "at_s": float("nan")}, "at_s: nan is not a time"),
    ({"kind": "page", "id": "abc", "page": 0}, "page: 0 is not a whole number from 1 to 999"),
    ({"kind": "panel", "id": "abc", "page": 1, "panel": 1.5}, "panel: 1.5 is not a whole number from 1 to 999"),
])
def test_a_bad_target_is_refused_naming_its_field(kwargs, message):
    with pytest.raises(InputError) as info:
        make_target(**kwargs)
    assert message in info.value.message


def test_verdicts_as_callers_write_them():
    assert [verdict_of(w) for w in ("approve", "Needs changes", "needs_changes", "none", "")] == \
        ["approved", "needs_changes", "needs_changes", None, None]
    with pytest.raises(InputError, match="verdict: 'maybe' is not a verdict"):
        verdict_of("maybe")


def test_where_a_comment_on_the_scenes_page_is_about_reads_as_people_write_it():
    from backend.errors import InputError
    from backend.review import where_target
    said = {w: where_target("s1", w).key() for w in ("", "12.5", "12 s", "page 2", "p2", "Page 2 panel 3",
                                                       "page 2, panel 3", "p2/3")}
    assert said == {"": "scene:s1", "12.5": "scene:s1@12.5", "12 s": "scene:s1@12.0", "page 2": "scene:s1/page:2",
                    "p2": "scene:s1/page:2", "Page 2 panel 3": "scene:s1/page:2/panel:3",
                    "page 2, panel 3": "scene:s1/page:2/panel:3", "p2/3": "scene:s1/page:2/panel:3"}
    for bad, field in (("a minute", "where"), ("page 0", "page"), ("page 2 panel 0", "panel")):
        with pytest.raises(InputError) as err:
            where_target("s1", bad)
        assert err.value.field == field, bad
