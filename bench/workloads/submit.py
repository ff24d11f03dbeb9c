"""N trivial tasks submitted to the flow's task runner, then their results gathered."""

from common import Measurement, load_framework, sum_of_successors

measurement = Measurement()
flow, task = load_framework(measurement.framework)


@task
def add_one(x: int) -> int:
    return x + 1


@flow
def submitted_tasks(n: int) -> int:
    futures = [add_one.submit(i) for i in range(n)]
    return sum(future.result() for future in futures)


measurement.run_flow(submitted_tasks, expected=sum_of_successors)
