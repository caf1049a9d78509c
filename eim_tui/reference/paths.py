"""Where the shipped reference data and styles live (inside the package, also when installed)."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE_DIR / "data"
STYLES_DIR = PACKAGE_DIR / "styles"
