"""The PySide6 desktop application (everything here may import Qt)."""

from .compat import protect_none

protect_none()
