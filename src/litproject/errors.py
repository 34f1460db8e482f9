"""Errors that are the user's to fix: the command line prints their message as one line, without
a traceback, and exits with `exit_code`. Any other exception is a bug and keeps its traceback."""

import re


class UserError(Exception):
    """A mistake in the input (an option, a config, a file) that the message explains how to fix."""

    exit_code = 2  # as for any other command-line mistake

    def __str__(self) -> str:
        message = super().__str__()
        # Raised in a DataLoader worker process, it comes back re-raised with the worker's
        # traceback as its message; the message the user needs is that traceback's last line.
        if message.startswith("Caught ") and "\nOriginal Traceback" in message:
            return message.rstrip().splitlines()[-1].split(": ", 1)[-1]
        return message


class CheckpointError(UserError):
    """A checkpoint that cannot be used: missing, unreadable, or saved by another model."""


class OptionError(UserError):
    """An option whose value the class it configures refuses (seen when the CLI builds it)."""


class DataError(UserError):
    """Dataset files that are missing, damaged or cannot be written: the user's to fix, reported
    in one line."""


# jsonargparse's words for types and restrictions, as a user reads them.
TYPES = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "NoneType": "null",
}
COMPARISONS = [(">=", "at least "), ("<=", "at most "), (">", "more than "), ("<", "less than ")]


def readable(expected: str) -> str:
    """`<class 'int'>` as "a whole number", `typing.Literal['a', 'b']` as "one of a, b"."""
    if found := re.fullmatch(r"<class '([\w.]+)'>", expected):
        return TYPES.get(found[1], found[1])
    if found := re.fullmatch(r"typing\.Literal\[(.+)\]", expected):
        return "one of " + found[1].replace("'", "")
    return expected


def one_line(message: str) -> str:
    """A parser's or a constructor's message as one line: the option, its value, what it takes.

    jsonargparse explains a refused value over several lines, nested once per class; the option
    is the chain of its `Parser key "..."` lines, the value and the rule are in the innermost."""
    keys = re.findall(r'Parser key "([^"]+)"', message)
    option = f"--{'.'.join(keys)} " if keys else ""
    if found := re.search(r"Not of type \w+: (.+?) does not conform to restriction (.+)", message):
        rule = found[2].replace("v", "")
        for sign, words in COMPARISONS:
            rule = rule.replace(sign, words)
        return f"{option}{found[1]}: must be {rule}"
    if found := re.search(r"Expected a <class '([\w.]+)'>\. Got value: (.+)", message):
        return f"{option}{found[2]}: must be {TYPES.get(found[1], found[1])}"
    if found := re.search(r"Expected a dot import path string: (\S+)", message):
        # A value that may also be a class (PyTorch's `float | Tensor` learning rate, say) is
        # checked as a class path too: a word is then no number, not a missing class.
        if plain := re.search(r"- Expected a <class '(int|float)'>", message):
            return f"{option}{found[1]}: must be {TYPES[plain[1]]}"
        return f"{option}{found[1]}: no such class; give a class of the project by name, or a full path"
    given, expected = re.search(r"Given value: (.+)", message), re.findall(r"- Expected an? (.+)", message)
    if given and expected and not given[1].startswith(("Namespace(", "NestedArg(")):
        return f"{option}{given[1]}: must be {' or '.join(dict.fromkeys(map(readable, expected)))}"
    if found := re.search(
        r"Errors:\s*- (.+?)\n.*class_path='([\w.]+)'", message, re.DOTALL
    ):  # a constructor's own
        return f"{found[2].rsplit('.', 1)[-1]}: {found[1]}"
    return " ".join(message.split())
