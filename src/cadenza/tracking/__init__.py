"""Experiment tracking: params, metrics, tags, datasets and files of runs.

Every flow run and task run is a run in the tracking sense. The fluent functions
(``cadenza.log_metric``, ``cadenza.log_param``...) record on the run of the calling
code; :class:`cadenza.TrackingClient` works on any run by its id, and searches them.
"""
