"""A flow of one task: what a fresh process costs from its start to a finished flow."""

from common import Measurement, load_framework, sum_of_successors

measurement = Measurement()
flow, task = load_framework(measurement.framework)


@task
def add_one(x: int) -> int:
    return x + 1


@flow
def one_task(n: int) -> int:
    return sum(add_one(i) for i in range(n))


measurement.run_single(one_task, expected=sum_of_successors)
