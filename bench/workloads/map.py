"""One ``.map()`` of a trivial task over N inputs, then the results gathered."""

from common import Measurement, load_framework, sum_of_successors

measurement = Measurement()
flow, task = load_framework(measurement.framework)


@task
def add_one(x: int) -> int:
    return x + 1


@flow
def mapped_tasks(n: int) -> int:
    futures = add_one.map(range(n))
    return sum(future.result() for future in futures)


measurement.run_flow(mapped_tasks, expected=sum_of_successors)
