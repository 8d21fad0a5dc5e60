"""The render's error: media that cannot be used."""


class RenderError(ValueError):
    """Media that cannot be used; the message names the shot."""
