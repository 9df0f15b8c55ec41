"""The deployed Lambda function, run from its zip in a subprocess that plays the Lambda Python runtime.

moto stores the function but cannot run it (no Docker). `DeployedFunction` reads the function's
configuration from moto (handler, timeout, memory, environment), checks that the code moto holds is the
committed zip (moto's CodeSha256 against the file's base64 SHA-256: moto does not serve the bytes of a
directly uploaded zip, so the hash is what ties the two together), and returns a handler callable for
`SqsEventSource`. Each call runs a fresh interpreter with only the extracted zip and boto3 (with its
dependencies) importable, the function's environment plus AWS_ENDPOINT_URL pointing at moto, the event
on stdin and the response on stdout. The repository's lambda_src is never on that path.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.moto_server import FAKE_AWS_ENVIRONMENT

# boto3 and what it imports: the part of the runtime's own libraries a handler may use.
RUNTIME_LIBRARIES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
PROCESS_GRACE_SECONDS = 10

BOOTSTRAP = r"""
import importlib, json, os, sys, time, traceback, uuid

class Context:
    def __init__(self, timeout_seconds):
        self._deadline = time.monotonic() + timeout_seconds
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ["EMULATED_FUNCTION_ARN"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "emulated"

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))

event = json.load(sys.stdin)
response_stream, sys.stdout = sys.stdout, sys.stderr  # the handler's prints go to the log, not the response
if os.environ.get("EMULATED_CALL_LOG"):  # every AWS call the handler makes, as it asks for it
    import boto3

    def record_call(params, model, **_):
        call = {"service": model.service_model.service_name, "operation": model.name, "params": params}
        with open(os.environ["EMULATED_CALL_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps(call, default=str) + "\n")

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-parameter-build", record_call)
try:
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    result = {"ok": True, "response": handler(event, Context(float(os.environ["EMULATED_TIMEOUT"])))}
    text = json.dumps(result)
except Exception as error:
    text = json.dumps({"ok": False, "errorType": type(error).__name__, "errorMessage": str(error),
                       "stackTrace": traceback.format_exc()})
response_stream.write(text)
"""


class DeployedCodeMismatchError(AssertionError):
    """The code moto holds is not the committed zip."""


class InvocationError(RuntimeError):
    """The function raised, timed out, or answered with something that is not JSON."""


def base64_sha256(path: Path) -> str:
    """What Lambda reports as CodeSha256 (and Terraform's filebase64sha256) for a file."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode("ascii")


def link_runtime_libraries(destination: Path) -> Path:
    """A directory holding (symlinks to) boto3 and its dependencies from this interpreter's environment."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(
                f"{name} is not installed: the emulated runtime needs boto3 and its dependencies"
            )
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (destination / source.name).symlink_to(source)
    return destination


@dataclass
class DeployedFunction:
    """A function deployed in moto, runnable from the committed zip."""

    name: str
    arn: str
    handler: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    task_root: Path
    runtime_root: Path
    endpoint_url: str
    logs: list[str] = field(default_factory=list)
    # Where the runtime appends each AWS call the handler makes (botocore's before-parameter-build event
    # on boto3's default session, which the handler's clients come from): one JSON line per call, in a
    # file per function environment, so that a test running the function with changed settings does not
    # mix its calls with the deployed configuration's.
    call_log_dir: Path | None = None
    # The calls of each invocation, in the order of `logs` (one list per invocation that answered), so
    # that the event source emulation can tell the messages the handler postponed itself.
    invocation_calls: list[list[dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def from_moto(
        cls, lambda_client: Any, function_name: str, committed_zip: Path, workdir: Path, endpoint_url: str
    ) -> DeployedFunction:
        """Read the function from moto, check its code is `committed_zip`, extract the zip to `workdir`."""
        configuration = lambda_client.get_function(FunctionName=function_name)["Configuration"]
        expected = base64_sha256(committed_zip)
        if configuration["CodeSha256"] != expected:
            raise DeployedCodeMismatchError(
                f"{function_name} runs code with CodeSha256 {configuration['CodeSha256']}, "
                f"but {committed_zip} has {expected}"
            )
        task_root = workdir / "task"
        with zipfile.ZipFile(committed_zip) as archive:
            archive.extractall(task_root)
        return cls(
            name=configuration["FunctionName"],
            arn=configuration["FunctionArn"],
            handler=configuration["Handler"],
            timeout=int(configuration["Timeout"]),
            memory_size=int(configuration["MemorySize"]),
            environment=dict(configuration.get("Environment", {}).get("Variables", {})),
            task_root=task_root,
            runtime_root=link_runtime_libraries(workdir / "runtime"),
            endpoint_url=endpoint_url,
            call_log_dir=workdir,
        )

    def process_environment(self) -> dict[str, str]:
        """The function's variables plus what the Lambda runtime sets, and moto as every AWS endpoint."""
        return {
            **self.environment,
            **FAKE_AWS_ENVIRONMENT,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "PYTHONPATH": f"{self.task_root}:{self.runtime_root}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUTF8": "1",
            "_HANDLER": self.handler,
            "EMULATED_FUNCTION_ARN": self.arn,
            "EMULATED_TIMEOUT": str(self.timeout),
            **(
                {}
                if self.call_log_dir is None
                else {"EMULATED_CALL_LOG": str(self.call_log(self.environment))}
            ),
        }

    def __call__(self, event: dict[str, Any]) -> Any:
        """Invoke the function with `event`; return its response or raise InvocationError."""
        calls_offset = self._call_log_size()
        try:
            result = subprocess.run(
                [sys.executable, "-S", "-c", BOOTSTRAP],  # -S: no site-packages beyond PYTHONPATH
                input=json.dumps(event),
                capture_output=True,
                text=True,
                cwd=self.task_root,
                env=self.process_environment(),
                timeout=self.timeout + PROCESS_GRACE_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise InvocationError(f"{self.name}: task timed out after {self.timeout} s") from error
        self.logs.append(result.stderr)
        self.invocation_calls.append(self._calls_since(calls_offset))
        try:
            payload = json.loads(result.stdout)
        except json.JSONDecodeError as error:
            raise InvocationError(
                f"{self.name} exited {result.returncode} without a response:\n{result.stderr[-4000:]}"
            ) from error
        if not payload["ok"]:
            raise InvocationError(f"{self.name} raised {payload['errorType']}: {payload['errorMessage']}")
        return payload["response"]

    def log_records(self, since: int = 0) -> list[dict[str, Any]]:
        """The JSON objects the function logged in its invocations from number `since` on, in order (lines
        that are not one, such as a traceback's, are left out)."""
        records = []
        for log in self.logs[since:]:
            for line in log.splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    records.append(record)
        return records

    def decisions(self, decision: str, since: int = 0) -> list[dict[str, Any]]:
        """The log records of one decision (e.g. "unchanged_skipped") from invocation number `since` on."""
        return [record for record in self.log_records(since) if record.get("decision") == decision]

    def call_log(self, environment: dict[str, str]) -> Path:
        """The file of the calls made with the function's variables `environment`."""
        if self.call_log_dir is None:
            raise ValueError(f"{self.name} records no calls")
        digest = hashlib.sha256(json.dumps(environment, sort_keys=True).encode()).hexdigest()[:16]
        return self.call_log_dir / f"aws_calls-{digest}.jsonl"

    def _call_log_size(self) -> int:
        log = None if self.call_log_dir is None else self.call_log(self.environment)
        return log.stat().st_size if log is not None and log.exists() else 0

    def _calls_since(self, offset: int) -> list[dict[str, Any]]:
        """The calls appended to this environment's call log after byte `offset`."""
        if self.call_log_dir is None or not self.call_log(self.environment).exists():
            return []
        with self.call_log(self.environment).open("rb") as log:
            log.seek(offset)
            return [json.loads(line) for line in log.read().decode("utf-8").splitlines()]

    def aws_calls(self, environment: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every AWS call the handler made so far with `environment` (default: this function's
        variables), in any invocation: service, operation and parameters."""
        log = self.call_log(self.environment if environment is None else environment)
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
