"""Talking to ComfyUI: its HTTP + websocket API (client), starting and watching it (supervisor)."""
