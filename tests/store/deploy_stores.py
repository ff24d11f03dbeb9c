"""The deployment stores the deployment contract tests run against: the SQL store on
every backend of :data:`tests.store.backends.BACKENDS`, and the HTTP store over a
live server in front of a SQL store."""

from __future__ import annotations

import dataclasses

from tests.store.backends import BACKENDS, Backend


@dataclasses.dataclass(frozen=True)
class DeployStoreKind:
    name: str
    backend: Backend
    http: bool = False

    def __str__(self) -> str:
        return self.name


DEPLOY_STORES: list[DeployStoreKind] = [
    *(DeployStoreKind(b.name, b) for b in BACKENDS),
    DeployStoreKind("http", BACKENDS[0], http=True),
]
