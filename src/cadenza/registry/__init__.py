"""The model registry: models logged by runs, registered models, versions, aliases,
stages, and loading models back by URI.

The user-facing functions are exported by ``cadenza`` itself (``cadenza.log_model``,
``cadenza.register_model``, ``cadenza.load_model``); the explicit client is
:class:`cadenza.registry.client.RegistryClient`. Nothing heavy is imported here.
"""
