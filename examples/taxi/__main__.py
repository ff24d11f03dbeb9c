"""``python -m examples.taxi``: the demo (see :mod:`examples.taxi.demo`)."""

from examples.taxi.demo import main

raise SystemExit(main())
