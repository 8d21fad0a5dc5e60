"""Pages: a scene becomes a lettered comic (issue 20).

model.py (the page model: formats, panels, balloons, frozen and without I/O); layout, lettering, raster pages
and one module per export build on it. Studio-side only: never imports worker/.
"""
