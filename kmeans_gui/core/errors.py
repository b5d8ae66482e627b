"""The one exception type the core raises for problems a person can fix."""


class ImageError(Exception):
    """Bad input or an impossible request, with a message meant for people.

    The GUI shows ``str(error)`` in a message box and the CLI prints it as
    ``path: reason``; neither shows a traceback for this type.
    """


class OutputExists(ImageError):
    """The output file exists and replacing it was not asked for."""
