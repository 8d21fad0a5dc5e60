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
