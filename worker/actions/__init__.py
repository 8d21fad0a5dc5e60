"""The handler's actions: one module each (the five job actions share `job`)."""
