"""Every test runs with a volume and a ComfyUI folder of its own.

The worker's defaults are /runpod-volume and /comfyui, as in the image. A machine that happens to have either
(a developer who ran the RunPod entry, say) must not change what a test sees, and no test may write there; tests
that need a volume set RUNPOD_VOLUME themselves, and child processes inherit these.
"""
from __future__ import annotations

import os
import tempfile

_isolated = tempfile.mkdtemp(prefix="studio-tests-")
os.environ["RUNPOD_VOLUME"] = os.path.join(_isolated, "runpod-volume")
os.environ["COMFYUI_DIR"] = os.path.join(_isolated, "comfyui")

try:
    from playwright.sync_api import expect
except ImportError:           # the browser tests are then skipped or not collected; nothing to set
    pass
else:
    # Playwright's 5 s default is a person's patience on a quiet machine; on a busy 2-core runner a Gradio event
    # (a re-run submitted, a row's details rendered) can take longer. A page that never shows the text still
    # fails, after 20 s.
    expect.set_options(timeout=20_000)
