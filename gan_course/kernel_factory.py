"""Grading kernels forked from one process that imported TensorFlow once: the kernels without the import.

Every grading kernel imports TensorFlow, Keras and the checks before the notebook's first
cell (the judge's record, ``judge``): about 4 s of CPU per notebook, a third of what a
quick notebook costs. The *factory* pays it once per grading run. It is a process of its
own that imports ipykernel and then the checks, runs nothing of TensorFlow (so no thread
pool exists yet and forking is safe), and forks a kernel on each request; a forked kernel
is a new process whose modules are the factory's, as they would be in a kernel that had
just imported the checks, and the judge's record is taken in it before the notebook's
first cell as in any other kernel (the factory notes which modules importing the checks
loaded, so that the record watches the same ones, ``judge.PRELOADED_ATTRIBUTE``).

jupyter_client starts, in place of ``python -m ipykernel_launcher -f FILE``, this file as a
*stand-in*: it sends the factory its connection file, folder, environment and standard
streams, and then stands for the forked kernel: a signal it gets (an interrupt) is passed
on, and it exits when the kernel exits, with its status. When the stand-in is killed, the
factory kills the kernel. A stand-in that finds no factory starts an ordinary kernel.
Only kernels of this machine are forked (no ``--kernel-prefix``), and only on Linux (on
macOS a process that imported TensorFlow is not safe to fork). The stand-in's side uses
the standard library only, so that it starts in a few milliseconds.
"""

import contextlib
import ctypes
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import traceback

SOCKET_ENV = "GAN_COURSE_KERNEL_FACTORY"
READY = "ready"
# Where the factory notes the modules that importing the checks loaded (see judge.record).
PRELOADED_ATTRIBUTE = "_gan_course_loaded_by_checks"
STREAMS = 3  # stdin, stdout, stderr
START_SECONDS = 120  # the factory imports TensorFlow before it is ready
PR_SET_PDEATHSIG = 1


# ----------------------------------------------------------------------------------------
# The grader's side


@contextlib.contextmanager
def started(env, checks=True):
    """A factory started with the kernels' environment ``env``: yields the path of its socket.

    ``checks``: import the course's checks (TensorFlow) before forking, for notebooks whose
    checks the grader judges; without, only ipykernel. Yields None when it could not start
    (the kernels then start as usual). Closing its standard input ends it, and with it
    any kernel it forked that still runs.
    """
    if not sys.platform.startswith("linux"):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="gan_kernels_") as folder:
        path = os.path.join(folder, "factory.sock")
        command = [sys.executable, __file__, "--serve", path] + ["--checks"] * checks
        factory = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=folder,
                                   text=True)
        try:
            ready = _wait_until_ready(factory)
            yield path if ready else None
        finally:
            factory.stdin.close()
            try:
                factory.wait(timeout=30)
            except subprocess.TimeoutExpired:
                factory.kill()
                factory.wait()


def _wait_until_ready(factory):
    selector = selectors.DefaultSelector()
    selector.register(factory.stdout, selectors.EVENT_READ)
    return bool(selector.select(timeout=START_SECONDS)) and factory.stdout.readline().strip() == READY


def kernel_command(connection_file):
    """The command jupyter_client starts in place of a kernel: this file as the kernel's stand-in."""
    return [sys.executable, os.path.abspath(__file__), "-f", connection_file]


# ----------------------------------------------------------------------------------------
# The stand-in, in the place jupyter_client starts a kernel


def stand_in(argv):
    """Ask the factory for a kernel with this process's connection file, folder, environment and streams."""
    connection_file = argv[argv.index("-f") + 1]
    try:
        link = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        link.connect(os.environ[SOCKET_ENV])
        request = {"connection_file": connection_file, "cwd": os.getcwd(), "env": dict(os.environ)}
        socket.send_fds(link, [json.dumps(request).encode() + b"\n"], list(range(STREAMS)))
        reader = link.makefile("r")
        pid = int(reader.readline())
    except (KeyError, OSError, ValueError):
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file])
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda received, frame: os.kill(pid, received))
    status = reader.readline()
    if not status.strip():  # the factory went away: so does its kernel
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    sys.exit(int(status) if status.strip() else 1)


# ----------------------------------------------------------------------------------------
# The factory


def preload(checks):
    """Import what every grading kernel imports before the notebook's first cell; note what the checks loaded."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel sets it
    import ipykernel.ipkernel  # noqa: F401  (what a kernel has loaded when the record cell runs)
    import ipykernel.kernelapp  # noqa: F401

    with contextlib.suppress(ImportError):
        import psutil  # noqa: F401  (ipykernel loads it as it starts)

    if checks:
        before = set(sys.modules)
        import gan_helpers.checks  # noqa: F401

        setattr(sys, PRELOADED_ATTRIBUTE, frozenset(set(sys.modules) - before))


def serve(path, checks):
    """Fork a kernel for each stand-in that asks, until the grader closes this process's standard input."""
    preload(checks)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    print(READY, flush=True)
    kernels = {}  # stand-in's connection -> kernel pid
    while True:
        for key, _ in selector.select(timeout=0.2):
            if key.fileobj is sys.stdin:
                _kill_all(kernels)
                return
            if key.fileobj is listener:
                connection = listener.accept()[0]
                try:
                    kernels[connection] = _fork_kernel(connection, listener, kernels)
                except (OSError, ValueError):  # not a stand-in's request: its stand-in starts a kernel itself
                    connection.close()
                    continue
                selector.register(connection, selectors.EVENT_READ)
            else:  # a stand-in that went away (killed): its kernel goes too
                _end(key.fileobj, kernels, selector, kill=True)
        _report_exits(kernels, selector)


def _fork_kernel(connection, listener, kernels):
    message, fds, _, _ = socket.recv_fds(connection, 1 << 20, STREAMS)
    request = json.loads(message)
    pid = os.fork()
    if pid == 0:
        listener.close()
        for other in kernels:
            other.close()
        connection.close()
        _run_kernel(request, fds)
    for fd in fds:
        os.close(fd)
    connection.sendall(f"{pid}\n".encode())
    return pid


def _run_kernel(request, fds):
    """In the forked process: become the kernel the stand-in asked for (never returns)."""
    status = 1
    try:
        os.setsid()  # a process group of its own: a signal to the factory's group does not reach it
        with contextlib.suppress(Exception):  # Linux: the kernel ends with the factory
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # as ``python -m ipykernel_launcher`` started there has it
        os.environ.clear()
        os.environ.update(request["env"])
        if "numpy.random" in sys.modules:  # its own random numbers, as a new process has
            sys.modules["numpy.random"].seed()
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
        if "JPY_PARENT_PID" in request["env"]:  # read from the environment when the factory imported ipykernel
            sys.argv.append(f"--IPKernelApp.parent_handle={request['env']['JPY_PARENT_PID']}")
        from ipykernel.kernelapp import launch_new_instance

        launch_new_instance()
        status = 0
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _report_exits(kernels, selector):
    """Tell the stand-in of each kernel that exited its status, and let both go."""
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        for connection, kernel in list(kernels.items()):
            if kernel == pid:
                with contextlib.suppress(OSError):
                    connection.sendall(f"{os.waitstatus_to_exitcode(wait_status)}\n".encode())
                _end(connection, kernels, selector, kill=False)


def _end(connection, kernels, selector, kill):
    pid = kernels.pop(connection, None)
    if kill and pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    selector.unregister(connection)
    connection.close()


def _kill_all(kernels):
    for pid in kernels.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        sys.path[0] = os.getcwd()  # not this file's folder: the course's tools stay out of the kernels
        serve(sys.argv[2], checks="--checks" in sys.argv)
    else:
        stand_in(sys.argv[1:])
