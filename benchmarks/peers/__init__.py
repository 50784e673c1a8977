"""flagkit beside peer feature-flag SDKs: see ``run.py`` and docs/performance.md."""
