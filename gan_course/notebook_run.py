"""Run one submitted notebook in a fresh kernel and say which of its checks pass.

Each notebook runs in its own kernel (on this machine, forked from the grader's kernel
factory, ``kernel_factory``), in a scratch folder, in quick mode, without widgets, under a
time limit per cell and per notebook, under the instructor's command prefix where one is
given (a container). A check of the course's library is judged by a
grader cell in place of the submission's cell (``trust``, ``judge``); a check defined in
the notebook passes when its cell runs without an error. What goes wrong costs only the
checks it touches: a cell that runs too long is interrupted and the notebook goes on; a
kernel that dies is started again without the cell that killed it; a submission that
changes the course's files stops grading (``CourseFilesChanged``). Imports no TensorFlow.
"""

import os
import re
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import NamedTuple

from gan_course import cell_outputs, kernel_factory
from gan_course.check_cells import judged_checks, library_check_names, match_checks
from gan_course.course_files import (
    CourseFilesChanged,
    changed_files,
    course_file_hashes,
    library_folder,
    library_hashes,
)
from gan_course.notebook_files import NotebookFormatError, read_notebook_json
from gan_course.trust import KernelTrust

DEFAULT_NOTEBOOK_TIME_LIMIT = 600
DEFAULT_CELL_TIME_LIMIT = 300
MAX_KERNEL_RESTARTS = 2
# A kernel that does not answer within this many seconds after an interrupt is restarted.
RESPONSIVE_PROBE_SECONDS = 15
# Train steps per run_a_gan call when grading in quick mode (quick mode's own is 20): no check
# depends on training, and two steps still run every training cell's code, its step twice.
GRADING_QUICK_STEPS = 2
# The thread pools a kernel may use (grade sets them to the cores per notebook run at once):
# TensorFlow's pools spin while they wait, which costs CPU when kernels share the cores.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


class NotebookGrade(NamedTuple):
    """What grading one notebook found.

    ``checks``: ``{check name: (passed, message)}``; ``raised``: ``{cell index: what went
    wrong}`` of its other code cells that raised, ran too long or killed the kernel (a
    check's own failure is in ``checks``).
    """

    checks: dict
    raised: dict


class KernelDied(Exception):
    """The kernel died while running the cell at ``cell_index``."""

    def __init__(self, cell_index):
        super().__init__(cell_index)
        self.cell_index = cell_index


class NotebookRun:
    """Execute one notebook's cells in a fresh kernel and record each check's outcome."""

    def __init__(self, notebook, matched, *, time_limit, cell_time_limit, env, workdir, files, kernel_prefix,
                 factory=None):
        self.notebook = notebook
        self.matched = matched
        self.deadline = time.monotonic() + time_limit
        self.cell_time_limit = cell_time_limit
        self.env = env
        self.workdir = workdir
        self.files = files
        self.kernel_prefix = kernel_prefix
        self.factory = factory
        self.judged = judged_checks(matched.values(), library_check_names(library_folder()))
        self.outcomes = {}
        self.raised = {}
        self.not_run = f"not run: the notebook's time limit of {time_limit:g} s was reached"
        self._error_reply = None

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _on_cell_error(self, cell, cell_index, execute_reply):
        self._error_reply = execute_reply.get("content", {})

    def _execute_cell(self, client, cell, index, store_history):
        """Run a cell (nbclient); the error it replied is kept in ``_error_reply``.

        nbclient writes the cell it ran back into the notebook at ``index``; the notebook's
        own cell is put back, so that a grader cell never takes its place (the record
        cell, run at index -1, would replace the notebook's last cell, and run again there).
        """
        from nbclient.exceptions import DeadKernelError

        own = client.nb.cells[index]
        self._error_reply = None
        try:
            client.execute_cell(cell, index, store_history=store_history)
        except DeadKernelError:
            raise KernelDied(index) from None
        finally:
            client.nb.cells[index] = own

    def _execute(self, client, cell, index, store_history=True):
        """Run one cell within the time left; return 'ok', 'error' or 'timeout' (seconds allowed)."""
        import nbformat

        seconds = max(1, int(min(self.cell_time_limit, self._remaining())))
        client.timeout = seconds
        client.error_on_timeout = {"ename": "TimeoutError", "evalue": f"the cell ran longer than {seconds} s"}
        self._execute_cell(client, cell, index, store_history)
        if self._error_reply is None:
            return "ok", seconds
        if self._error_reply.get("ename") != "TimeoutError":
            return "error", seconds
        client.timeout = RESPONSIVE_PROBE_SECONDS
        self._execute_cell(client, nbformat.v4.new_code_cell("pass"), index, store_history=False)
        if self._error_reply is not None:
            raise KernelDied(index)
        return "timeout", seconds

    def _grader_cell(self, client, trust, made, index, what="the check"):
        """Run a grader cell (record or judge); return its verdict payload."""
        cell, key, nonce = made
        status, seconds = self._execute(client, cell, index, store_history=False)
        payload = trust.read(cell, key, nonce)  # also what an interrupted cell reported before it stopped
        if status == "timeout":
            return {"passed": False, "message": f"timed out: {what} ran longer than {seconds} s"}
        return payload

    def run_once(self, skip):
        """One pass over the notebook in a new kernel, leaving out the cells in ``skip``."""
        from nbclient import NotebookClient

        self.raised = {}
        # A kernel of this machine is killed once its notebook is graded (a graceful shutdown of a
        # kernel that imported TensorFlow takes 1 to 2 s, and nothing of it is kept); one under a
        # prefix shuts down on its own, so that a container it runs in exits too.
        client = NotebookClient(self.notebook, kernel_name="python3", allow_errors=True, record_timing=False,
                                interrupt_on_timeout=True, on_cell_error=self._on_cell_error,
                                resources={"metadata": {"path": str(self.workdir)}},
                                kernel_manager_class=kernel_manager_class(self.kernel_prefix, self.factory),
                                shutdown_kernel="graceful" if self.kernel_prefix else "immediate")
        with client.setup_kernel(env=self.env):
            trust = KernelTrust(library_hashes(self.files)) if self.judged else None
            if trust is not None:
                recorded = self._grader_cell(client, trust, trust.cell("record"), -1,
                                             what="importing the checks before the notebook's first cell")
                if not recorded["passed"]:
                    trust.failure = recorded["message"]
            for index, cell in enumerate(self.notebook.cells):
                if cell.cell_type != "code" or index in skip:
                    continue
                if self._remaining() < 1:
                    return
                check = self.matched.get(index)
                if check in self.judged:
                    if trust.failure:
                        self.outcomes[check] = (False, trust.failure)
                        continue
                    payload = self._grader_cell(client, trust, trust.judge_cell(check), index)
                    self.outcomes[check] = (bool(payload["passed"]), cell_outputs.short(cell_outputs.strip_ansi(payload["message"])))
                    continue
                status, seconds = self._execute(client, cell, index)
                if check is not None:
                    timed_out = (False, f"timed out: the check ran longer than {seconds} s")
                    self.outcomes[check] = timed_out if status == "timeout" else cell_outputs.cell_outcome(cell)
                elif status != "ok":
                    raised = cell_outputs.error(cell) or self._error_reply.get("ename", "an error")
                    self.raised[index] = (f"ran longer than {seconds} s" if status == "timeout"
                                          else cell_outputs.short(cell_outputs.strip_ansi(raised)))

    def run(self):
        """Run the notebook, in new kernels without the killing cells when a kernel dies."""
        killers = []
        while True:
            try:
                self.run_once(set(killers))
                break
            except KernelDied as death:
                killers.append(death.cell_index)
                if len(killers) > MAX_KERNEL_RESTARTS or self._remaining() < 1:
                    self.not_run = f"not run: the kernel died {len(killers)} times (last in cell {death.cell_index})"
                    break
        for index in killers:
            if index in self.matched:
                self.outcomes[self.matched[index]] = (False, "the kernel died while running this check")
            else:
                self.raised[index] = "the kernel died"
        return NotebookGrade(self.outcomes, dict(sorted(self.raised.items())))


def kernel_manager_class(prefix=None, factory=None):
    """The kernel manager the grader starts kernels with: jupyter_client's, one under ``prefix``, or a forked one.

    A kernel of this machine talks over Unix sockets (``LocalKernelManager``); one under a
    prefix, over TCP (a container shares no folder with the grader). With a ``factory`` (the socket of a ``kernel_factory`` that runs), the kernel is forked
    from it (its stand-in is the process jupyter_client starts). With a prefix (a list of words, e.g. ``["docker", "run", "--rm", "-i", ..., "IMAGE"]``)
    the kernel's command is ``PREFIX python -m ipykernel_launcher -f CONNECTION_FILE``:
    ``python`` is found by the prefix (a container's own Python; on this machine the
    kernel's PATH starts with this Python's folder). ``{connection_file}`` and ``{cwd}``
    in the prefix are replaced by the kernel's connection file and scratch folder.
    """
    from jupyter_client import AsyncKernelManager

    class LocalKernelManager(AsyncKernelManager):
        """Talks to its kernel over Unix sockets: no TCP ports, which another process could take in
        the moment between jupyter_client choosing them and the kernel binding them."""

        def __init__(self, **kwargs):
            sockets = os.path.join(tempfile.gettempdir(), f"gan-grade-{uuid.uuid4().hex}")  # + "-1" .. "-5"
            super().__init__(**{"transport": "ipc", "ip": sockets, **kwargs})

    if factory and not prefix:
        class ForkedKernelManager(LocalKernelManager):
            def format_kernel_cmd(self, extra_arguments=None):
                return kernel_factory.kernel_command(os.path.realpath(self.connection_file))

        return ForkedKernelManager
    if not prefix:
        return LocalKernelManager
    words = list(prefix)

    class PrefixedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            command = super().format_kernel_cmd(extra_arguments)
            fields = {"connection_file": os.path.realpath(self.connection_file),
                      "cwd": str(self._launch_args.get("cwd") or os.getcwd())}
            filled = [re.sub(r"\{(connection_file|cwd)\}", lambda match: fields[match.group(1)], word) for word in words]
            return filled + ["python"] + command[1:]

    return PrefixedKernelManager


def read_submission(path):
    """A submitted notebook as an nbformat NotebookNode (v4), or NotebookFormatError."""
    import nbformat

    read_notebook_json(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            notebook = nbformat.read(str(path), as_version=4)
        except Exception as error:  # nbformat raises many kinds on odd files
            raise NotebookFormatError(f"{path.name} cannot be read as a notebook ({error}).") from None
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def kernel_environment(quick=True, kernel_prefix=None, threads=None):
    """The environment a grading kernel starts with: this one, in quick mode unless asked otherwise, no widgets.

    In quick mode training runs ``GRADING_QUICK_STEPS`` steps; a notebook's runs go in its
    own scratch folder (``GAN_COURSE_RUNS`` is left out); ``threads``: how many
    threads the kernel's thread pools may use (``THREAD_VARIABLES``), None for their
    defaults. Settings of this environment win. Under a kernel prefix, this Python's
    folder comes first on PATH, so that a prefix run on this machine (``env``, ``nice``, a
    sandbox) starts this Python as ``python``.
    """
    from gan_helpers import settings

    env = dict(os.environ)
    env[settings.QUICK_ENV] = "1" if quick else "0"
    if quick:
        env.setdefault(settings.QUICK_STEPS_ENV, str(GRADING_QUICK_STEPS))
    env["GAN_COURSE_WIDGETS"] = "0"  # nobody watches: plain text output (see gan_helpers.widgets)
    env.pop(settings.RUNS_ENV, None)  # runs in the notebook's scratch folder, not another's (notebook 09 reads them)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in THREAD_VARIABLES if threads is not None else ():
        env.setdefault(name, str(threads))
    if kernel_prefix:
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def grade_notebook(path, checks, *, time_limit=DEFAULT_NOTEBOOK_TIME_LIMIT, cell_time_limit=DEFAULT_CELL_TIME_LIMIT,
                   quick=True, kernel_prefix=None, files=None, threads=None, factory=None):
    """Run one submitted notebook: a :class:`NotebookGrade` of ``checks`` and the other cells that raised.

    ``kernel_prefix``: words to start the kernel under (see :func:`kernel_manager_class`).
    ``factory``: the socket of a ``kernel_factory`` to fork the kernel from (None: start one).
    ``threads``: the threads the kernel's thread pools may use (see :func:`kernel_environment`).
    ``files``: the course's file hashes (``course_file_hashes``, default: as now), the
    library's of which the kernel's must match; raises :class:`CourseFilesChanged` when
    the notebook changed any.
    """
    files = course_file_hashes() if files is None else files
    if path is None:
        return NotebookGrade({check.name: (False, "missing notebook") for check in checks}, {})
    try:
        notebook = read_submission(path)
    except NotebookFormatError as error:
        return NotebookGrade({check.name: (False, f"malformed notebook: {error}") for check in checks}, {})
    matched = match_checks(checks, notebook)
    env = kernel_environment(quick, kernel_prefix, threads)
    if factory:
        env[kernel_factory.SOCKET_ENV] = factory
    with tempfile.TemporaryDirectory(prefix="gan_grade_") as workdir:
        run = NotebookRun(notebook, matched, time_limit=time_limit, cell_time_limit=cell_time_limit, env=env,
                          workdir=workdir, files=files, kernel_prefix=kernel_prefix, factory=factory)
        try:
            outcomes, raised = run.run()
        except Exception as error:  # e.g. a kernel that cannot start: this notebook only
            outcomes, raised = run.outcomes, run.raised
            run.not_run = cell_outputs.short(f"not run: {type(error).__name__}: {error}")
    found = set(matched.values())
    results = {check.name: outcomes.get(check, (False, run.not_run)) if check in found
               else (False, f"missing: no cell runs `{check.code}`") for check in checks}
    now = course_file_hashes()
    changed = changed_files(files, now)
    if changed:
        raise CourseFilesChanged(
            f"grading {path} changed the course's files: {', '.join(changed)}. "
            "Grading stopped: every later grade would rest on them. Restore them (git checkout, or reinstall "
            "the course) and grade inside a container (README, For instructors: --kernel-prefix).", results)
    return NotebookGrade(results, raised)
