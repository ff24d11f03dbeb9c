"""Example pipelines built on cadenza (``examples.taxi``: the NYC-taxi training pipeline)."""
