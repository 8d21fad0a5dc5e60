"""Custom nodes of the project's tests, linked into the real ComfyUI's custom_nodes/ by the real_comfyui tier.

- StudioTestSleep: sleeps `seconds`, checking ComfyUI's interrupt flag ten times a second (as well-behaved nodes
  do), with a progress bar; outputs a small grey image. A job that runs long enough to cancel or kill.
- StudioTestStubborn: sleeps `seconds` and never looks at the interrupt flag, like SONIC's sampling loop
  (issue 16): after /interrupt the prompt keeps running until the loop ends.
"""
import time

import torch

import comfy.model_management
import comfy.utils


class _Base:
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "run"
    CATEGORY = "studio tests"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"seconds": ("FLOAT", {"default": 5.0, "min": 0.0, "max": 600.0, "step": 0.1}),
                             "nonce": ("INT", {"default": 0, "min": 0, "max": 2**31 - 1})}}

    @staticmethod
    def _image():
        return (torch.full((1, 64, 64, 3), 0.5),)


class StudioTestSleep(_Base):
    def run(self, seconds, nonce):
        ticks = max(1, int(seconds * 10))
        bar = comfy.utils.ProgressBar(ticks)
        for _ in range(ticks):
            comfy.model_management.throw_exception_if_processing_interrupted()
            time.sleep(seconds / ticks)
            bar.update(1)
        return self._image()


class StudioTestStubborn(_Base):
    def run(self, seconds, nonce):
        print(f"StudioTestStubborn: sleeping {seconds} s, ignoring interrupts", flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.1)
        print("StudioTestStubborn: done", flush=True)
        return self._image()


NODE_CLASS_MAPPINGS = {"StudioTestSleep": StudioTestSleep, "StudioTestStubborn": StudioTestStubborn}
NODE_DISPLAY_NAME_MAPPINGS = {"StudioTestSleep": "Sleep (studio tests)",
                              "StudioTestStubborn": "Sleep ignoring interrupts (studio tests)"}
