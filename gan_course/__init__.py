"""The GAN course's tools for instructors and maintainers, beside the learner's library ``gan_helpers``.

    python -m gan_course make-student notebooks/ OUT/             the student version
    python -m gan_course grade SUBMISSIONS/ --out report.csv      grade a class (README, For instructors)
    python -m gan_course update-notebooks                         maintainers: headers, nbgrader metadata, exercises/
    python -m gan_course regenerate-checks                        maintainers: the checks' expected values
    python -m gan_course train-classifier                         maintainers: the metrics' classifier

A distribution of its own (``gan_course/pyproject.toml``), so that a learner's install of
``gan_helpers`` carries no grader. It builds on ``gan_helpers``, never the reverse.
Importing it (and ``make-student``, ``grade``, ``update-notebooks``) imports no
TensorFlow; the notebooks it grades run in kernels of their own.
"""

from gan_course.conventions import (
    SETUP_CELL,
    add_course_header,
    convention_problems,
    update_notebooks,
)
from gan_course.check_cells import check_code, find_checks
from gan_course.course_files import CourseFilesChanged
from gan_course.grading import grade, summary_table
from gan_course.notebook_run import grade_notebook
from gan_course.headers import colab_badge, colab_url
from gan_course.nbgrader_cells import cell_roles, with_nbgrader_metadata
from gan_course.notebook_files import NotebookFormatError, cell_source, read_notebook_json
from gan_course.references import EXERCISES, Exercise
from gan_course.student import SOLUTION_BEGIN, make_student, student_notebook

__all__ = [
    "SETUP_CELL",
    "add_course_header",
    "convention_problems",
    "update_notebooks",
    "CourseFilesChanged",
    "check_code",
    "find_checks",
    "grade",
    "grade_notebook",
    "summary_table",
    "colab_badge",
    "colab_url",
    "cell_roles",
    "with_nbgrader_metadata",
    "NotebookFormatError",
    "cell_source",
    "read_notebook_json",
    "EXERCISES",
    "Exercise",
    "SOLUTION_BEGIN",
    "make_student",
    "student_notebook",
]
