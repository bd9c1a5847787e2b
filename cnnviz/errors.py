"""The one exception type that cnnviz raises for problems a user can fix."""


class CnnvizError(Exception):
    """A user-facing problem (bad input, missing file, unknown layer...).

    The message is one line that names the problem and what would work; the CLI prints it
    without a traceback and exits with status 1.
    """
