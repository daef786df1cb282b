"""The course's files on disk: the library the kernels must run, and what a submission must not change.

The grader hashes the library (``gan_helpers``: its code and the checks' expected values)
and its own code (``gan_course``) before grading, hands the library's hashes to every
kernel (whose judge compares them with the files it imports, ``judge.file_differences``)
and compares both after each notebook: a submission that rewrote them stops grading,
since every later grade would rest on them.
"""

from pathlib import Path

from gan_course import judge

TOOLS_FOLDER = Path(__file__).resolve().parent
LIBRARY = "gan_helpers/"
TOOLS = "gan_course/"


class CourseFilesChanged(RuntimeError):
    """A submission changed the course's files on disk: later grades would rest on the changed files.

    ``results`` holds the outcomes of the notebook that changed them (``grade_notebook``).
    """

    def __init__(self, message, results=None):
        super().__init__(message)
        self.results = results or {}


def library_folder():
    """The folder of the ``gan_helpers`` this Python imports (cheap: the package imports its names lazily)."""
    import gan_helpers

    return Path(gan_helpers.__file__).resolve().parent


def course_file_hashes():
    """``{"gan_helpers/PATH" or "gan_course/PATH": sha256}``: the library the kernels run and the grader's own code."""
    library = judge.file_hashes(str(library_folder()))
    tools = judge.file_hashes(str(TOOLS_FOLDER))
    return {LIBRARY + path: digest for path, digest in library.items()} | {TOOLS + path: digest for path, digest in tools.items()}


def library_hashes(hashes):
    """The library's part of ``course_file_hashes``, relative to the package: what a kernel's library must match."""
    return {path.removeprefix(LIBRARY): digest for path, digest in hashes.items() if path.startswith(LIBRARY)}


def changed_files(before, now):
    """The paths whose hashes differ between two ``course_file_hashes`` (changed, added or removed), sorted."""
    return sorted(path for path in set(before) | set(now) if before.get(path) != now.get(path))
