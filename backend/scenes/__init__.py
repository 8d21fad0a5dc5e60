"""Scenes: a Fountain script and a cast become one motion-comic video (issue 9).

model.py (the shared data model), fountain.py (Fountain → elements), script.py (elements → Scene),
timeline.py (shot and line timing) and render/ (the PyAV renderer: full frame and motion comic). Studio-side only: never imports worker/.
"""
