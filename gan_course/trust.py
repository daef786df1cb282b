"""The grader's side of the judge (``gan_course.judge``) for one kernel.

The judge runs inside the submission's kernel, as cells of the grader's own; this side
makes those cells, each with a key and a nonce of its own, keeps what the record cell
reported (the digests of what the checks run on, the ids of the course's ``test_*``
functions) out of the kernel's reach, and reads back only verdicts signed with the key.
"""

import ast
import hashlib
import hmac
import json
import secrets
from pathlib import Path

from gan_course import cell_outputs, judge
from gan_course.check_cells import parse
from gan_course.references import exercise

# The text the kernel runs: the judge's module, then its entry point (never an import,
# which a submission could have patched).
JUDGE_SOURCE = Path(judge.__file__).read_text(encoding="utf-8") + (
    "\nmain(json.loads(GRADER_PARAMETERS), USER_NAMESPACE)\n"
)


class KernelTrust:
    """What the grader knows of one kernel's checks, and the grader cells that judge them."""

    def __init__(self, files):
        self.files = files
        self.digests = None
        self.check_ids = {}
        self.failure = None

    def cell(self, action, **extra):
        """(source of a grader cell, its key, its nonce)."""
        import nbformat

        key, nonce = secrets.token_hex(32), secrets.token_hex(16)
        parameters = {"action": action, "key": key, "nonce": nonce, "files": self.files,
                      "digests": self.digests or {}, "check_ids": self.check_ids, **extra}
        source = (f"exec({JUDGE_SOURCE!r}, {{'__name__': 'gan_course_grader', "
                  f"'GRADER_PARAMETERS': {json.dumps(parameters)!r}, 'USER_NAMESPACE': globals()}})")
        return nbformat.v4.new_code_cell(source), key, nonce

    def judge_cell(self, check):
        """A grader cell that judges ``check``: each call, its arguments as source, its exercise's row."""
        calls = []
        for call in (statement.value for statement in parse(check.code).body):
            row = exercise(call.func.id)
            learner = None if row.learner_arguments is None else list(row.learner_arguments)
            calls.append({"check": call.func.id, "args": [ast.unparse(argument) for argument in call.args],
                          "kwargs": {word.arg: ast.unparse(word.value) for word in call.keywords if word.arg},
                          "references": list(row.references), "learner_arguments": learner})
        return self.cell("judge", calls=calls)

    def read(self, cell, key, nonce):
        """The final verdict of a grader cell (dict), or a failure payload saying why there is none.

        Keeps what every line signed with the cell's key reports, the final verdict's and
        those before it (the checks imported afresh), even when the cell did not finish.
        """
        verdict = None
        for payload in self._signed(cell, key, nonce):
            self.update(payload)
            if payload.get("final"):
                verdict = payload
        if verdict is not None:
            return verdict
        error = cell_outputs.error(cell)
        if error is not None:
            return {"passed": False, "message": f"the grader's check did not finish ({error})"}
        return {"passed": False, "message": "no verdict from the grader's check: the submission silenced, "
                                            "redirected or rewrote the kernel's output"}

    @staticmethod
    def _signed(cell, key, nonce):
        """The payloads of the verdict lines a grader cell printed with a valid signature and its nonce."""
        mark = judge.VERDICT_MARK + " "
        for line in cell_outputs.printed(cell).splitlines():
            if not line.startswith(mark):
                continue
            body, _, signature = line[len(mark):].rpartition(" ")
            expected = hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, signature):
                continue
            payload = json.loads(body)
            if payload.get("nonce") == nonce:
                yield payload

    def update(self, payload):
        """Keep what a signed verdict reports: the digests of the checks imported afresh, their ids."""
        if payload.get("digests"):
            self.digests = judge.with_fresh_checks(self.digests or {}, payload["digests"])
        for name, identity in payload.get("check_ids", {}).items():
            known = self.check_ids.setdefault(name, [])
            if identity not in known:
                known.append(identity)
