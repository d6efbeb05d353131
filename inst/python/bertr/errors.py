"""The one exception type bertr raises for problems a user can fix."""


class BertrError(ValueError):
    """A problem with the user's input, settings or files, with a message meant for the user.

    The R wrappers turn this into an R condition of class ``bertr_error`` carrying only the message,
    so it must read well on its own: name the argument, file or row, and say what to do.
    """
