"""Reproducible benchmarks of HandlerLens against named peers (`make bench`)."""
