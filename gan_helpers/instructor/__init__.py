"""The instructor's tools: the student version, grading, and the notebooks' conventions.

    python -m gan_helpers make-student notebooks/ OUT/
    python -m gan_helpers grade SUBMISSIONS/ --out report.csv

None of them imports TensorFlow; the notebooks they run do, in kernels of their own.
"""

from gan_helpers.instructor.conventions import (
    SETUP_CELL,
    add_colab_badge,
    colab_badge,
    colab_url,
    convention_problems,
)
from gan_helpers.instructor.grading import check_code, find_checks, grade, grade_notebook, summary_table
from gan_helpers.instructor.notebook_files import NotebookFormatError, cell_source, read_notebook_json
from gan_helpers.instructor.student import SOLUTION_BEGIN, make_student, student_notebook

__all__ = [
    "SETUP_CELL",
    "add_colab_badge",
    "colab_badge",
    "colab_url",
    "convention_problems",
    "check_code",
    "find_checks",
    "grade",
    "grade_notebook",
    "summary_table",
    "NotebookFormatError",
    "cell_source",
    "read_notebook_json",
    "SOLUTION_BEGIN",
    "make_student",
    "student_notebook",
]
