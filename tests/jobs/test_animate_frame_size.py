"""The animation frame follows the panel's shape, at sizes each engine was trained for (pure sizing rules)."""
from __future__ import annotations

import math

import pytest

from worker.jobs.animate import frame_size, lcm_frame_size, svd_frame_size

PANELS = [(512, 512), (1024, 512), (512, 1024), (1600, 900), (900, 1600), (1200, 800), (800, 1200), (1000, 750),
          (1000, 800), (3000, 1000), (640, 6400), (6400, 64), (777, 333), (333, 777)]


def log_error(size: tuple[int, int], panel: tuple[int, int]) -> float:
    return abs(math.log(size[0] / size[1]) - math.log(panel[0] / panel[1]))


@pytest.mark.parametrize("panel", PANELS)
def test_animatelcm_frame_is_on_the_64_grid_near_512_squared_and_nearest_the_panel_shape(panel):
    w, h = lcm_frame_size(*panel)
    assert w % 64 == 0 and h % 64 == 0
    assert 0.8 * 512 * 512 <= w * h <= 1.1 * 512 * 512
    # no other 64-multiple frame of an allowed area has a shape closer to the panel's
    others = [(a, b) for a in range(64, 2049, 64) for b in range(64, 2049, 64) if 0.8 * 512**2 <= a * b <= 1.1 * 512**2
              and min(a, b) >= 256]
    assert log_error((w, h), panel) <= min(log_error(o, panel) for o in others) + 1e-9
    # and the shape points the same way as the panel's
    assert (w > h) == (panel[0] > panel[1]) and (w < h) == (panel[0] < panel[1])


def test_animatelcm_known_shapes():
    assert lcm_frame_size(800, 800) == (512, 512)
    assert lcm_frame_size(1500, 1000) == (576, 384)            # 3:2 exactly
    assert lcm_frame_size(1000, 1500) == (384, 576)
    assert lcm_frame_size(2000, 1000) == (704, 384)            # nearest 2:1 within 1.1× of 512² (768×384 is 1.125×)
    assert lcm_frame_size(1000, 2000) == (384, 704)
    assert lcm_frame_size(10000, 100) == (1088, 256)           # beyond 4.25:1 the widest allowed frame


def test_animatelcm_is_symmetric_for_wide_and_tall():
    for w, h in PANELS:
        assert lcm_frame_size(w, h) == lcm_frame_size(h, w)[::-1]


@pytest.mark.parametrize("panel,expected", [
    ((1200, 1000), (1024, 576)),       # ratio exactly 1.2 is landscape
    ((1199, 1000), (768, 768)),
    ((1000, 1000), (768, 768)),
    ((1000, 1200), (576, 1024)),       # exactly 1/1.2 is portrait
    ((1000, 1199), (768, 768)),
    ((1920, 1080), (1024, 576)),
    ((1080, 1920), (576, 1024)),
])
def test_svd_frame_is_landscape_portrait_or_square(panel, expected):
    assert svd_frame_size(*panel) == expected
    assert all(side % 64 == 0 for side in expected)


def test_frame_size_picks_the_rules_of_the_mode():
    assert frame_size("svd", 2000, 1000) == (1024, 576)
    assert frame_size("animatelcm", 2000, 1000) == (704, 384)
