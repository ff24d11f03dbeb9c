"""The harness behind ``make bench``: runs the workloads, compares, reports."""
