"""Errors that are the user's to fix: the command line prints their message as one line, without
a traceback, and exits with `exit_code`. Any other exception is a bug and keeps its traceback."""


class UserError(Exception):
    """A mistake in the input (an option, a config, a file) that the message explains how to fix."""

    exit_code = 2  # as for any other command-line mistake


class CheckpointError(UserError):
    """A checkpoint that cannot be used: missing, unreadable, or saved by another model."""
