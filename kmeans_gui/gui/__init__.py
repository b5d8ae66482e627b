"""The PySide6 desktop application (everything here may import Qt)."""
