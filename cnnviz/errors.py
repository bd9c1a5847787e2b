"""The one exception type that cnnviz raises for problems a user can fix."""


class CnnvizError(Exception):
    """A user-facing problem (bad input, missing file, unknown layer...).

    The message is one line that names the problem and what would work; the CLI prints it
    without a traceback and exits with status 1.
    """


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (Keras errors run to many lines)."""
    text = str(exc).strip().splitlines()
    return text[0][:limit] if text else type(exc).__name__
