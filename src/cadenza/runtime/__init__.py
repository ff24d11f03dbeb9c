"""What code inside a run can know about it, as module attributes (Prefect's names).

>>> from cadenza.runtime import flow_run
>>> flow_run.scheduled_start_time   # inside a flow run: when it was due to start
"""

from cadenza.runtime import deployment, flow_run

__all__ = ["deployment", "flow_run"]
