"""CloudFlow's history event types, as GetExecutionHistory returns them."""

from __future__ import annotations

from typing import Final

from shared.results import ExecutionStatus

EXECUTION_STARTED: Final = "ExecutionStarted"
STEP_ENTERED: Final = "StepEntered"
STEP_EXITED: Final = "StepExited"
STEP_FAILED: Final = "StepFailed"
BRANCH_ENTERED: Final = "BranchEntered"
BRANCH_EXITED: Final = "BranchExited"
ITERATION_ENTERED: Final = "IterationEntered"
ITERATION_EXITED: Final = "IterationExited"
TASK_SCHEDULED: Final = "TaskScheduled"
TASK_STARTED: Final = "TaskStarted"
TASK_SUBMITTED: Final = "TaskSubmitted"
TASK_SUCCEEDED: Final = "TaskSucceeded"
TASK_FAILED: Final = "TaskFailed"
TASK_TIMED_OUT: Final = "TaskTimedOut"

EXECUTION_ENDED: Final = {
    ExecutionStatus.SUCCEEDED: "ExecutionSucceeded",
    ExecutionStatus.FAILED: "ExecutionFailed",
    ExecutionStatus.TIMED_OUT: "ExecutionTimedOut",
    ExecutionStatus.STOPPED: "ExecutionStopped",
}
