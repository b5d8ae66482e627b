"""The PySide6 desktop application (everything here may import Qt)."""

from .compat import protect_singletons

protect_singletons()
