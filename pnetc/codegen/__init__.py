"""Codegen: IR -> template context (context.py) -> files rendered from templates/ (render.py)."""
