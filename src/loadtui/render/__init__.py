"""Rich renderables that both front ends draw: the console prints them, the app's widgets show
them (Textual renders rich tables). Plain run data in, tables out; it imports neither front end,
so the console and the app share these without importing each other.
"""
