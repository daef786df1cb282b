"""What an executed notebook cell printed or raised, as the grader's report tells it."""

import re

from gan_course.judge import last_line

MESSAGE_LIMIT = 300


def short(text):
    """``text`` on one line, cut to ``MESSAGE_LIMIT`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def printed(cell):
    """What an executed cell printed on stdout."""
    return "".join(output.get("text", "") for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")


def error(cell):
    """``"Name: value"`` of an executed cell's first error, or None."""
    found = next((output for output in cell.get("outputs", []) if output.get("output_type") == "error"), None)
    if found is None:
        return None
    name, value = found.get("ename", "Error"), found.get("evalue", "")
    return f"{name}: {value}" if value else name


def cell_outcome(cell):
    """(passed, message) from an executed cell's outputs: an error fails, else its last printed line."""
    raised = error(cell)
    if raised is not None:
        return False, short(strip_ansi(raised))
    return True, short(last_line(printed(cell)))
