"""exercises/, the student version learners start from, is exactly what make-student writes from notebooks/.

Every change to a solution notebook needs the student version written again; the failure
message gives the command.
"""

from pathlib import Path

import gan_course
from gan_course.notebook_files import course_notebooks

REPO = Path(__file__).resolve().parents[2]
COMMAND = "python -m gan_course update-notebooks   (or: python -m gan_course make-student notebooks/ exercises/)"


def test_exercises_are_what_make_student_writes(tmp_path):
    written = gan_course.make_student(REPO / "notebooks", tmp_path / "exercises")
    expected = {path.name: path.read_bytes() for path in written}
    found = {path.name: path.read_bytes() for path in course_notebooks(REPO / "exercises")}
    missing, stale = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    differ = sorted(name for name in set(expected) & set(found) if expected[name] != found[name])
    assert not (missing or stale or differ), (
        f"exercises/ is out of date (missing: {missing}, without a solution notebook: {stale}, differing: {differ}). "
        f"Write it again with\n    {COMMAND}"
    )


def test_the_student_version_opens_itself_and_hides_the_answers():
    text = (REPO / "exercises" / "01_leaky_relu_and_noise.ipynb").read_text(encoding="utf-8")
    solution = (REPO / "notebooks" / "01_leaky_relu_and_noise.ipynb").read_text(encoding="utf-8")
    assert "blob/main/exercises/01_leaky_relu_and_noise.ipynb" in text and "blob/main/notebooks/" not in text
    assert "tf.maximum(x, alpha * x)" in solution and "tf.maximum(x, alpha * x)" not in text
    assert "(solutions)" in solution and "(solutions)" not in text


def test_the_readme_sends_learners_to_the_exercises():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme.split("\n\n")[1].startswith("[![Open In Colab]") and "blob/main/exercises/01_" in readme.split("\n\n")[1]
    table = readme[readme.index("## The course"):readme.index("Each notebook is one idea")]
    for path in course_notebooks(REPO / "notebooks"):
        assert f"](exercises/{path.name})" in table and f"[solutions](notebooks/{path.name})" in table, path.name
