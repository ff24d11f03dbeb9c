"""The run loop: how flow runs and task runs execute, retry, time out and report."""
