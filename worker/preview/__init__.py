"""The preview engine: a stand-in for ComfyUI 0.3.64 that validates like it and renders marked preview media."""
