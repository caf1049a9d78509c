"""Reading the seed reference data shipped in `data/` (TOML and CSV), checked as a whole."""

from eim_tui.reference.data import ReferenceData, RoutingRule, load_reference
from eim_tui.reference.files import ReferenceError
from eim_tui.reference.paths import DATA_DIR, PACKAGE_DIR, STYLES_DIR

__all__ = [
    "DATA_DIR", "PACKAGE_DIR", "STYLES_DIR", "ReferenceData", "ReferenceError", "RoutingRule", "load_reference",
]
