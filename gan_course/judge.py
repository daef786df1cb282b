"""The grader's own code inside a submission's kernel: a record of the untouched library, then verdicts.

``gan_course.trust`` reads this file and sends its text, as cells of its
own, into the kernel that runs a submission (the grader itself imports it only for its
constants and file hashing). It uses the standard library only, and the kernel runs it
from that text, never from an import, so a submission cannot have patched it before it
runs. Two actions, chosen by the grader's parameters:

**record**, a cell run before the submission's first cell: imports ``gan_helpers.checks``
(and with it numpy, TensorFlow, Keras and the course's library) and takes a *snapshot*
of everything the checks run on: every package importing them loaded (less the drawing
and notebook machinery, ``UNWATCHED_PACKAGES``, which no verdict passes through), the
whole standard library and ``builtins``, and the interpreter's hooks (trace and profile
functions, ``sys.meta_path`` and the path hooks, ``sys.stdout``). A snapshot holds, per
module attribute, the identity of every function, class, method and module it names, of
a function's code, defaults and closure (one level through wrappers), and of every
method of a class the module defines; in the checks' own modules, their data too. The
per-module digests go back to the grader, which keeps them; the kernel keeps the
snapshot itself only to name what changed.

**judge**, a cell run *instead of* each check cell the solution notebook has. It

1. takes a new snapshot and compares it with the grader's digests: an attribute that
   was replaced or deleted (``numpy.max = ...``, ``gan_helpers.checks.test_x = ...``,
   ``builtins.print = ...``, a function's ``__code__`` swapped, a method of
   ``keras.Model`` replaced or added, ``sys.settrace`` set) fails the check and is
   named; module attributes added since the record (lazy imports) and attributes that
   were ``None`` then (state a library sets up later) are not counted;
2. checks that the course's files on disk are those the grader hashed (the checks'
   code and their expected values, ``gan_helpers/reference/checks.npz``);
3. fails the check when the notebook binds the check's name to anything but the
   course's own ``test_*`` function (a redefined check);
4. drops ``gan_helpers.checks`` and its modules from ``sys.modules`` and imports them
   again from disk, so that the check and its expected values are read afresh, and
   reports their digests at once (a signed line, not final), so that a check the grader
   interrupts does not leave the grader's record and the kernel's disagreeing;
5. grades the learner's code, not the library's: each argument the check grades must be
   a function (or class) written in the notebook; it must not be, reach (through globals,
   closures, wrappers, ``tf.function``) or call while the check runs (a profile hook; the
   check's own calls do not count) the library's reference answer for that exercise
   (the table in ``references``);
6. runs the check, its output captured, then compares a snapshot with the record again
   (code that patched something while the check ran is caught too);
7. prints one line: ``VERDICT_MARK``, the verdict as JSON (final), and its HMAC-SHA256 under a
   key that only the grader's cell holds. The grader counts a check as passed only on a
   verdict line that carries this cell's nonce and a valid HMAC; a cell whose output was
   silenced, swallowed or rewritten fails.

**Threat model.** This holds against what a submission can do at the level of Python
names and objects without targeting this grader: patching or replacing the checks, their
helpers or their expected values (in memory or on disk), redefining ``test_*``, deleting
or editing check cells (``grading`` matches check cells by their code), monkeypatching
numpy, TensorFlow, Keras, the standard library or ``builtins`` (``print``,
``AssertionError``, ``isinstance`` ...), hooks on output, display or exceptions, and
handing in the library's reference answer or a wrapper of it. It does not hold against
code written against the grader itself, which runs in the same process: reading this
cell's key from memory or its source, shadowing the names a grader cell uses, hooking
IPython's execution of cells or the import system to run something else, rewriting
objects in place below the attribute level (``gc``, ``ctypes``), or background threads
that patch and restore between the grader's steps. Nor does it catch an answer that
replays the checks' expected values: the checks use fixed inputs. Grading also runs the
submission with the instructor's rights: grade inside a container (``grade
--kernel-prefix``, README "For instructors").
"""

import contextlib
import functools
import hashlib
import hmac
import importlib
import io
import json
import os
import reprlib
import sys
import types

VERDICT_MARK = "GAN-COURSE-GRADER-VERDICT"
CHECKS_PACKAGE = "gan_helpers.checks"
# Where the record keeps the per-attribute snapshot in the kernel (for naming what changed;
# the verdict itself rests on the digests the grader keeps).
STATE_ATTRIBUTE = "_gan_course_grader_state"
# Where a kernel forked from the grader's kernel factory finds the modules the factory's
# import of the checks loaded (the record watches them as if it had imported the checks).
PRELOADED_ATTRIBUTE = "_gan_course_loaded_by_checks"
HOOKS = "<interpreter hooks>"
MODULE_IDENTITY = "<module object>"
# Wrappers whose target a fingerprint follows: functools.partial, tf.function, numpy's
# array-function dispatchers, functools.wraps, bound methods.
WRAPPED_ATTRIBUTES = ("__wrapped__", "_implementation", "python_function", "__func__", "func")
MAX_PROBLEMS_SHOWN = 3
# Packages a snapshot leaves out: drawing and the notebook's own machinery (see watched_module_names).
UNWATCHED_PACKAGES = ("IPython", "ipykernel", "ipywidgets", "comm", "traitlets", "jupyter_client", "jupyter_core",
                      "zmq", "tornado", "debugpy", "matplotlib", "mpl_toolkits", "PIL", "fontTools", "kiwisolver",
                      "cycler", "pyparsing", "pygments", "tqdm")


# ----------------------------------------------------------------------------------------
# Snapshots: what each watched module's attributes are


def _wrapped_targets(value):
    """(attribute, object) for each wrapper attribute of ``value`` (read past any ``__getattr__`` of its own)."""
    for name in WRAPPED_ATTRIBUTES:
        try:
            yield name, object.__getattribute__(value, name)
        except Exception:
            continue


def _closure(function):
    """The values in a function's closure cells (empty cells left out)."""
    for cell in function.__closure__ or ():
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell
            continue


def _callable_fingerprint(value, depth=0):
    """A tuple that changes when a function, class, method or module is replaced or rewritten.

    None for data (numbers, arrays, dicts ...): libraries rebind those as they work. Tuples
    of ids, not strings: a snapshot takes a hundred thousand of them per check.
    """
    kind = type(value)
    if kind is types.FunctionType:
        fingerprint = (id(value), id(value.__code__), id(value.__defaults__), id(value.__kwdefaults__))
        if depth < 2 and value.__closure__:
            fingerprint += tuple(_callable_fingerprint(content, depth + 1)
                                 for content in _closure(value) if callable(content))
        return fingerprint
    if isinstance(value, type):
        return ("class", id(value))
    if isinstance(value, types.ModuleType):
        return ("module", vars(value).get("__name__"))
    if kind is types.MethodType:
        return ("method", _callable_fingerprint(value.__func__, depth), id(value.__self__))
    if callable(value):
        fingerprint = ("object", id(value))
        if depth < 2:
            fingerprint += tuple((name, _callable_fingerprint(target, depth + 1))
                                 for name, target in _wrapped_targets(value)
                                 if isinstance(target, (types.FunctionType, types.MethodType)))
        return fingerprint
    return None


def _fingerprint(name, value, strict):
    """The fingerprint of attribute ``name``, or None where a change of it is not counted.

    Strict modules (the checks) count data too, dunder attributes aside: simple values by
    value, the rest by identity; None (state set up later, e.g. a cache filled on first
    use) is not counted, as elsewhere.
    """
    fingerprint = _callable_fingerprint(value)
    if fingerprint is not None or not strict or name.startswith("__") or value is None:
        return fingerprint
    if isinstance(value, (bool, int, float, complex, str, bytes)):
        return ("value", type(value).__name__, repr(value))
    return ("data", type(value).__name__, id(value))


def _class_fingerprints(cls, strict):
    """The fingerprints of a class's methods, properties and (strict) class attributes."""
    found = {}
    for name, value in list(vars(cls).items()):
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            found[name] = ("property", *(_callable_fingerprint(part) for part in (value.fget, value.fset, value.fdel)))
            continue
        if isinstance(value, functools.cached_property):
            value = value.func
        fingerprint = _fingerprint(name, value, strict)
        if fingerprint is not None:
            found[name] = fingerprint
    return found


def _module_fingerprints(module, strict=False):
    """{attribute: fingerprint} of a module: its functions, classes (with their methods) and modules."""
    name = vars(module).get("__name__")
    found = {MODULE_IDENTITY: id(module)}
    for attribute, value in list(vars(module).items()):
        fingerprint = _fingerprint(attribute, value, strict)
        if fingerprint is None:
            continue
        found[attribute] = fingerprint
        if isinstance(value, type) and vars(value).get("__module__") == name:
            for member, member_fingerprint in _class_fingerprints(value, strict).items():
                found[f"{attribute}.{member}"] = member_fingerprint
    return found


def _hook_fingerprints():
    """The interpreter's hooks a check's verdict depends on, as fingerprints."""
    package = sys.modules.get("gan_helpers")
    return {
        "sys.gettrace()": _callable_fingerprint(sys.gettrace()),
        "sys.getprofile()": _callable_fingerprint(sys.getprofile()),
        "sys.meta_path": repr([id(finder) for finder in sys.meta_path]),
        "sys.path_hooks": repr([id(hook) for hook in sys.path_hooks]),
        "sys.modules": str(id(sys.modules)),
        "sys.stdout": str(id(sys.stdout)),
        "sys.stderr": str(id(sys.stderr)),
        "gan_helpers.__path__": repr(list(getattr(package, "__path__", []))),
    }


def is_checks_module(module_name):
    return module_name == CHECKS_PACKAGE or module_name.startswith(CHECKS_PACKAGE + ".")


def snapshot(module_names):
    """{module name: {attribute: fingerprint}} for the named modules (as found in sys.modules now)."""
    found = {HOOKS: _hook_fingerprints()}
    for name in module_names:
        if name == HOOKS:
            continue
        module = sys.modules.get(name)
        if isinstance(module, types.ModuleType):
            found[name] = _module_fingerprints(module, strict=is_checks_module(name))
    return found


def digest(fingerprints):
    """One number for a module's fingerprints (valid within this process, like the ids in them)."""
    return str(hash(frozenset(fingerprints.items())))


def with_fresh_checks(digests, fresh):
    """``{module: digest}`` with the checks' modules replaced by ``fresh``'s (the checks imported afresh)."""
    return {name: value for name, value in digests.items() if not is_checks_module(name)} | fresh


def watched_module_names(loaded_by_checks):
    """The modules the checks run on: the packages importing them loaded, and the standard library.

    Less the display and notebook machinery (``UNWATCHED_PACKAGES``), which TensorFlow
    and Keras import but no verdict passes through, and which rebinds its own functions
    as a notebook draws (pyplot's ``draw_if_interactive``, for one).
    """
    packages = {name.split(".")[0] for name in loaded_by_checks} | {"numpy", "tensorflow", "keras", "gan_helpers"}
    packages -= set(UNWATCHED_PACKAGES)
    watched = packages | set(getattr(sys, "stdlib_module_names", ())) | {"builtins", "sys"}
    return sorted(name for name, module in list(sys.modules.items()) if name != "__main__"
                  and isinstance(module, types.ModuleType) and name.split(".")[0] in watched)


def _describe(value):
    """What an object is, for a message: ``__main__.<lambda>``, ``numpy.max``, ``a float``."""
    if value is None:
        return "None"
    code = getattr(value, "__code__", None)
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        where = f"{module}.{qualname}"
        if module == "__main__" or (code is not None and "ipykernel" in str(code.co_filename)):
            return f"{where}, defined in the notebook"
        return where
    if callable(value):
        return f"a {type(value).__name__}"
    return reprlib.repr(value)


def _current_value(module_name, attribute):
    value = sys.modules.get(module_name)
    for part in attribute.split("."):
        try:
            value = vars(value)[part]
        except (TypeError, KeyError):
            return None
    return value


def differences(module_name, before, now):
    """Sentences naming the attributes of a module replaced or deleted between two snapshots."""
    if module_name != HOOKS and before.get(MODULE_IDENTITY) != now.get(MODULE_IDENTITY):
        return [f"sys.modules['{module_name}'] was replaced by another module"]
    found = []
    for attribute, fingerprint in before.items():
        where = attribute if module_name == HOOKS else f"{module_name}.{attribute}"
        if attribute not in now:
            found.append(f"{where} was deleted")
        elif now[attribute] != fingerprint:
            if module_name == HOOKS:
                found.append(f"{where} was changed")
            else:
                found.append(f"{where} was replaced or changed (it is now {_describe(_current_value(module_name, attribute))})")
    for attribute in now:
        owner = attribute.split(".")[0]
        if "." in attribute and attribute not in before and owner in before:
            found.append(f"{module_name}.{attribute} was added (it overrides what the class inherits)")
    return found


def tampering(digests, pristine):
    """Sentences naming what differs from the grader's digests (named with the help of the record)."""
    current = snapshot(list(digests))
    found = []
    for name, recorded in digests.items():
        now = current.get(name)
        if now is None:
            found.append(f"the module {name} was removed from sys.modules")
            continue
        if digest(now) == recorded:
            continue
        before = (pristine or {}).get(name)
        if before is None or digest(before) != recorded:
            found.append(f"{name} was changed, and so was the grader's record of it")
            continue
        found.extend(differences(name, before, now))
    return found


# ----------------------------------------------------------------------------------------
# The course's files on disk


def package_folder():
    module = sys.modules.get("gan_helpers")
    paths = list(getattr(module, "__path__", []))
    return paths[0] if paths else None


def file_hashes(root):
    """{path relative to ``root``: sha256} of every .py file and reference file under a package's folder."""
    hashes = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(files):
            relative = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if name.endswith(".py") or relative.startswith("reference/"):
                with open(os.path.join(folder, name), "rb") as handle:
                    hashes[relative] = hashlib.sha256(handle.read()).hexdigest()
    return hashes


def file_differences(expected):
    """The course's files that differ from the grader's copy (changed, added or missing), as relative paths."""
    root = package_folder()
    if root is None:
        return ["gan_helpers (not importable)"]
    found = file_hashes(root)
    return sorted(path for path in set(expected) | set(found) if expected.get(path) != found.get(path))


# ----------------------------------------------------------------------------------------
# The checks, imported afresh


def fresh_checks():
    """``gan_helpers.checks`` imported again from disk, every module of it new."""
    for name in list(sys.modules):
        if is_checks_module(name):
            del sys.modules[name]
    importlib.invalidate_caches()
    return importlib.import_module(CHECKS_PACKAGE)


def check_function_ids():
    """{test name: id} of the ``test_*`` functions of the checks now in sys.modules."""
    module = sys.modules.get(CHECKS_PACKAGE)
    return {name: id(value) for name, value in vars(module).items()
            if name.startswith("test_") and isinstance(value, types.FunctionType)}


# ----------------------------------------------------------------------------------------
# The learner's code, not the library's


def resolve(reference):
    """The library function named ``module:qualname`` (e.g. ``gan_helpers.ops:leaky_relu``)."""
    module_name, _, qualname = reference.partition(":")
    value = importlib.import_module(module_name)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def unwrapped(value, depth=0):
    """Every object a wrapper stands for, the wrapper included (partial, tf.function, wraps, methods)."""
    found = [value]
    if depth < 4:
        for _, target in _wrapped_targets(value):
            if callable(target) and target is not value:
                found.extend(unwrapped(target, depth + 1))
    return found


def _codes(value):
    return [item.__code__ for item in unwrapped(value) if isinstance(item, types.FunctionType)]


def learner_function(value, user_ns):
    """The notebook's own function or class behind ``value`` (partial and bound methods unwrapped), or None."""
    for item in unwrapped(value):
        if isinstance(item, types.FunctionType) and item.__globals__ is user_ns:
            return item
        if isinstance(item, type) and vars(item).get("__module__") == "__main__":
            return item
    return None


def _inner_codes(code):
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _inner_codes(constant)


def _step(path, step):
    return f"{path} -> {step}" if path else step


def reached_references(function, references, user_ns, limit=2000):
    """The references the learner's function or class reaches by name, closure, default or wrapper.

    Follows the notebook's own functions and classes (not the library's internals), module
    attributes named in the code (``gan_helpers.ops.leaky_relu``) and wrappers
    (``tf.function``, ``functools.partial``). Returns ``[(reference, path)]``, the path
    naming the steps, e.g. ``helper -> gan_helpers.ops.leaky_relu``.
    """
    targets = {id(item): reference for reference, value in references.items() for item in unwrapped(value)}
    found, seen = [], set()
    queue = [(function, "")]
    while queue and len(seen) < limit:
        value, path = queue.pop(0)
        if id(value) in seen:
            continue
        seen.add(id(value))
        found += [(targets[id(item)], path or "itself") for item in unwrapped(value) if id(item) in targets]
        if isinstance(value, type) and vars(value).get("__module__") == "__main__":
            for name, member in vars(value).items():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, types.FunctionType):
                    queue.append((member, _step(path, f"{value.__name__}.{name}")))
            continue
        inner = [item for item in unwrapped(value) if isinstance(item, types.FunctionType) and item.__globals__ is user_ns]
        for item in inner:
            names = sorted({name for code in _inner_codes(item.__code__) for name in code.co_names})
            for name in names:
                if name in user_ns:
                    queue.append((user_ns[name], _step(path, name)))
            queue += [(content, _step(path, "a closure variable")) for content in _closure(item)]
            for default in list(item.__defaults__ or ()) + list((item.__kwdefaults__ or {}).values()):
                queue.append((default, _step(path, "a default argument")))
            modules = [user_ns[name] for name in names if isinstance(user_ns.get(name), types.ModuleType)]
            for _ in range(2):  # gan_helpers.ops.leaky_relu: two attribute steps
                deeper = []
                for module in modules:
                    for name in names:
                        try:
                            attribute = getattr(module, name)
                        except Exception:
                            continue
                        queue.append((attribute, _step(path, f"{vars(module).get('__name__')}.{name}")))
                        if isinstance(attribute, types.ModuleType):
                            deeper.append(attribute)
                modules = deeper
    return found


class ReferenceWatch:
    """A profile hook that notes each reference answer the learner's code calls while a check runs.

    A call counts when a frame of the notebook stands between it and the grader's own
    frames, so the check itself may call the reference to compute what it expects
    (``test_xy_updates`` runs ``iterates``): the notebook frame further down the stack,
    the grader's cell that runs the check, is not the learner's code.
    """

    def __init__(self, references, user_ns):
        self.codes = {code: reference for reference, value in references.items() for code in _codes(value)}
        self.user_ns = user_ns
        self.grader_globals = globals()
        self.calls = []

    def __call__(self, frame, event, argument):
        if event != "call":
            return
        reference = self.codes.get(frame.f_code)
        if reference is None:
            return
        caller = frame
        while caller is not None and caller.f_globals is not self.grader_globals:
            if caller.f_globals is self.user_ns:
                if reference not in self.calls:
                    self.calls.append(reference)
                return
            caller = caller.f_back


def learner_code_problem(argument, value, references, user_ns):
    """A sentence when the value handed to a check is not the learner's own code, else None."""
    function = learner_function(value, user_ns)
    for item in unwrapped(value):
        for reference, reference_value in references.items():
            if item is reference_value or (isinstance(item, types.FunctionType) and item.__code__ in _codes(reference_value)):
                return (f"`{argument}` is the course library's reference answer {reference.replace(':', '.')}, "
                        "not code written in the notebook: write the function in the exercise cell.")
    if function is None:
        return (f"`{argument}` is not a function written in the notebook (it is {_describe(value)}): "
                "the check grades the function you write in the exercise cell.")
    folder = package_folder()
    code = getattr(function, "__code__", None)
    if folder and code is not None and os.path.abspath(code.co_filename).startswith(os.path.abspath(folder) + os.sep):
        return f"`{argument}` runs code of the course's library ({code.co_filename}), not code written in the notebook."
    reached = reached_references(function, references, user_ns)
    if reached:
        reference, path = reached[0]
        return (f"`{argument}` uses the course library's reference answer {reference.replace(':', '.')} "
                f"(through {path}): the exercise is to write it yourself.")
    return None


# ----------------------------------------------------------------------------------------
# The two actions


class _Verdict:
    """A grader cell's report: signed lines on the kernel's own output, the last one final.

    ``report`` sends what the grader must keep even if the cell never finishes (the
    digests of the checks imported afresh: a check the grader interrupts leaves them in
    the kernel); ``emit`` sends the verdict itself, marked final.
    """

    def __init__(self, params, stream):
        self.key = params["key"]
        self.nonce = params["nonce"]
        self.stream = stream
        self.payload = {"nonce": self.nonce, "passed": False, "message": "", "digests": {}, "check_ids": {}}

    def fail(self, message):
        self.payload.update(passed=False, message=message)
        return self

    def report(self):
        self._write({**self.payload, "final": False})

    def emit(self):
        self._write({**self.payload, "final": True})

    def _write(self, payload):
        text = json.dumps(payload, sort_keys=True)
        signature = hmac.new(self.key.encode(), text.encode(), hashlib.sha256).hexdigest()
        self.stream.write(f"\n{VERDICT_MARK} {text} {signature}\n")
        self.stream.flush()


def _sentences(problems, lead):
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    return f"{lead}: {shown}" + (f" (and {more} more)" if more > 0 else "")


def record(verdict, params, user_ns):
    """Before the submission runs: import the checks, snapshot what they run on, report the digests."""
    before = set(sys.modules) - getattr(sys, PRELOADED_ATTRIBUTE, frozenset())
    try:
        importlib.import_module(CHECKS_PACKAGE)
        changed = file_differences(params["files"])
        if changed:
            return verdict.fail(_sentences(changed, "the kernel's gan_helpers differs from the grader's (install the same "
                                                    "version where the kernels run); different files"))
        pristine = snapshot(watched_module_names(set(sys.modules) - before))
    except Exception as error:
        return verdict.fail(f"the grader could not load the checks in the kernel: {type(error).__name__}: {error}")
    setattr(sys, STATE_ATTRIBUTE, pristine)
    verdict.payload.update(passed=True, message="recorded",
                           digests={name: digest(value) for name, value in pristine.items()},
                           check_ids=check_function_ids())
    return verdict


def interpreter_hooks_set():
    """Trace and profile functions the submission left set, removed (they would watch the grader run)."""
    found = []
    if sys.gettrace() is not None:
        found.append(f"sys.settrace({_describe(sys.gettrace())}) was set")
        sys.settrace(None)
    if sys.getprofile() is not None:
        found.append(f"sys.setprofile({_describe(sys.getprofile())}) was set")
        sys.setprofile(None)
    return found


def _run_check(check, args, kwargs):
    """(passed, message) of one check call, its printed output captured."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            check(*args, **kwargs)
    except (Exception, SystemExit) as error:
        return False, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return True, last_line(printed.getvalue())


def last_line(printed):
    """The last line a passing check printed that is not blank (its verdict), or "passed"."""
    lines = [line for line in printed.splitlines() if line.strip()]
    return lines[-1] if lines else "passed"


def judge(verdict, params, user_ns):
    """In place of a check cell: verify, import the checks afresh, grade the learner's code, report."""
    pristine = getattr(sys, STATE_ATTRIBUTE, None)
    problem = _changed_before_the_check(params, pristine, user_ns)
    if problem:
        return verdict.fail(problem)
    modules, digests, pristine = _checks_afresh(verdict, params["digests"], pristine)
    message = "passed"
    for call in params["calls"]:
        passed, message = _judge_call(call, modules, digests, pristine, user_ns)
        if not passed:
            return verdict.fail(message)
    verdict.payload.update(passed=True, message=message)
    return verdict


def _changed_before_the_check(params, pristine, user_ns):
    """A sentence naming what the submission changed of what the checks run on, their files or names; or None."""
    problems = interpreter_hooks_set() or tampering(params["digests"], pristine)
    if problems:
        return _sentences(problems, "the submission changed what the checks run on")
    changed = file_differences(params["files"])
    if changed:
        return _sentences(changed, "the course's files on disk were changed")
    for call in params["calls"]:
        bound = user_ns.get(call["check"], None)
        if call["check"] in user_ns and id(bound) not in params["check_ids"].get(call["check"], []):
            return f"the notebook redefines {call['check']} (it is now {_describe(bound)}): the checks are the course's"
    return None


def _checks_afresh(verdict, digests, pristine):
    """(the checks imported afresh, the digests and the snapshot to hold them to).

    Their digests are reported to the grader before any of the learner's code runs, and
    kept in the kernel only then: a check the grader interrupts (it ran too long) leaves
    the grader and the kernel agreeing on them, so that the next check is judged as if
    nothing had happened.
    """
    modules = fresh_checks()
    fresh = snapshot([name for name in sys.modules if is_checks_module(name)])
    fresh.pop(HOOKS)
    fresh_digests = {name: digest(value) for name, value in fresh.items()}
    verdict.payload.update(digests=fresh_digests, check_ids=check_function_ids())
    verdict.report()
    pristine = {**(pristine or {}), **fresh}
    setattr(sys, STATE_ATTRIBUTE, pristine)
    return modules, with_fresh_checks(digests, fresh_digests), pristine


def _judge_call(call, modules, digests, pristine, user_ns):
    """(passed, message) of one check call: the learner's code handed in, the check run under watch."""
    args = [eval(expression, user_ns) for expression in call["args"]]
    kwargs = {name: eval(expression, user_ns) for name, expression in call["kwargs"].items()}
    references = {reference: resolve(reference) for reference in call["references"]}
    graded = call["learner_arguments"]
    positions = range(len(args)) if graded is None else [index for index in graded if index < len(args)]
    for index in positions:
        problem = learner_code_problem(call["args"][index], args[index], references, user_ns)
        if problem:
            return False, problem
    watch = ReferenceWatch(references, user_ns)
    sys.setprofile(watch)
    try:
        passed, message = _run_check(getattr(modules, call["check"]), args, kwargs)
    finally:
        profiler = sys.getprofile()
        sys.setprofile(None)
    if profiler is not watch:
        return False, "the submission changed the interpreter's profile hook while the check ran"
    problems = tampering(digests, pristine)
    if problems:
        return False, _sentences(problems, "the submission changed what the checks run on while the check ran")
    if watch.calls:
        reference = watch.calls[0].replace(":", ".")
        return False, (f"the code handed to {call['check']} calls the course library's reference answer "
                       f"{reference}: the exercise is to write it yourself")
    return passed, message


def main(params, user_ns):
    """Run the action the grader asked for and print its signed verdict (KeyboardInterrupt passes through)."""
    verdict = _Verdict(params, sys.stdout)
    action = {"record": record, "judge": judge}[params["action"]]
    try:
        action(verdict, params, user_ns)
    except (Exception, SystemExit) as error:
        verdict.fail(f"the grader's check failed: {type(error).__name__}: {error}")
    verdict.emit()
