"""HandlerLens: editor tooling for Python cloud-function handlers."""

__version__ = "0.1.0"
