"""The cost of importing the framework (N is ignored)."""

from common import Measurement

measurement = Measurement()
measurement.time_import()
