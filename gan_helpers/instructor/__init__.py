"""The instructor's tools: the student version, grading, nbgrader metadata, the notebooks' conventions.

    python -m gan_helpers make-student notebooks/ OUT/
    python -m gan_helpers grade SUBMISSIONS/ --out report.csv
    python -m gan_helpers update-notebooks      (maintainers: headers, nbgrader metadata, exercises/)

None of them imports TensorFlow; the notebooks they run do, in kernels of their own.
"""

from gan_helpers.instructor.conventions import (
    SETUP_CELL,
    add_course_header,
    convention_problems,
    update_notebooks,
)
from gan_helpers.instructor.grading import (
    CourseFilesChanged,
    check_code,
    find_checks,
    grade,
    grade_notebook,
    summary_table,
)
from gan_helpers.instructor.headers import colab_badge, colab_url
from gan_helpers.instructor.nbgrader_cells import cell_roles, with_nbgrader_metadata
from gan_helpers.instructor.notebook_files import NotebookFormatError, cell_source, read_notebook_json
from gan_helpers.instructor.references import EXERCISES, Exercise
from gan_helpers.instructor.student import SOLUTION_BEGIN, make_student, student_notebook

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
