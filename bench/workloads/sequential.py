"""N trivial tasks called one after another inside one flow."""

from common import Measurement, load_framework, sum_of_successors

measurement = Measurement()
flow, task = load_framework(measurement.framework)


@task
def add_one(x: int) -> int:
    return x + 1


@flow
def sequential_tasks(n: int) -> int:
    total = 0
    for i in range(n):
        total += add_one(i)
    return total


measurement.run_flow(sequential_tasks, expected=sum_of_successors)
