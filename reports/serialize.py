"""`RunResult` <-> plain JSON data: re-exported from `harness.serialize` (the one codec)."""

from harness.serialize import (
                               metrics_from_list,
                               read_json,
                               read_run,
                               run_from_dict,
                               run_to_dict,
                               system_from_dict,
                               write_json,
                               write_run,
)

__all__ = ["run_to_dict", "run_from_dict", "system_from_dict", "metrics_from_list", "write_json", "read_json",
           "write_run", "read_run"]
