"""Repository-root conftest: keeps matplotlib headless for the whole test session."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
pytest_plugins = ["pytester"]
