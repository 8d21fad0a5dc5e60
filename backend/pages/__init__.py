"""Pages: a scene becomes a lettered comic (issue 20; docs/pages.md).

model.py (the page model: formats, panels, balloons, frozen and without I/O); layout.py (shots → pages of panels),
fonts.py and text.py (the lettering face, metrics, oval line breaks), lettering.py (balloons, captions, sfx),
raster.py (pages drawn with Pillow), book.py (layout + lettering + warnings, and the JSON); one module per export
builds on them. Studio-side only: never imports worker/.
"""
