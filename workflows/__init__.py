"""The job catalogue: declarations, ComfyUI templates and the model manifest (see catalogue.py)."""
