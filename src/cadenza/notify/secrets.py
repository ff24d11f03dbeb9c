"""Secrets of notification channels: a reference to an environment variable, or a
value stored encrypted.

A :class:`Secret` is one of three things:

* ``env:NAME``, a reference to the environment variable ``NAME``, read when a message
  is sent (in the process that sends it: the server, or the flow's own process);
* a value given in clear (a password typed on the command line), which is encrypted
  with Fernet (``cryptography``) before it is stored and decrypted only to send;
* a value kept on a server, as a client of that server sees it: known to be set,
  never readable.

The key is ``CADENZA_SECRET_KEY`` or, without it, a key file ``secret.key`` created
in ``CADENZA_HOME`` with mode 0600. No secret value is ever returned by the API,
shown by the UI or the command line, or logged: :meth:`Secret.describe` and
``repr`` give ``env:NAME`` or ``••••``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from cadenza.exceptions import InvalidNotificationConfig, SecretError

MASK = "••••"
"""How a secret value is shown."""
ENV_PREFIX = "env:"
_STORED_PREFIX = "fernet:"
KEY_FILE = "secret.key"
_ENV_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class Secret:
    """A secret value of a channel (a password, a signing key, a webhook URL).

    Build one with :meth:`env` or :meth:`value`, or let :meth:`parse` read
    ``"env:NAME"`` as a reference and anything else as a value.
    """

    __slots__ = ("_token", "_value", "env_name")

    def __init__(
        self,
        *,
        env_name: str | None = None,
        value: str | None = None,
        token: str | None = None,
    ) -> None:
        self.env_name = env_name
        self._value = value
        self._token = token

    # -- building ----------------------------------------------------------------------
    @classmethod
    def env(cls, name: str) -> Secret:
        """A reference to the environment variable ``name``, read when sending."""
        name = name.strip()
        if not name or not set(name) <= _ENV_NAME_CHARS or name[0].isdigit():
            raise InvalidNotificationConfig(
                f"{name!r} is not an environment variable name: use letters, digits and "
                "underscores, as in env:SMTP_PASSWORD."
            )
        return cls(env_name=name)

    @classmethod
    def value(cls, value: str) -> Secret:
        """A value, encrypted when it is stored."""
        if not isinstance(value, str) or not value:
            raise InvalidNotificationConfig("A secret value must be a non-empty string.")
        return cls(value=value)

    @classmethod
    def parse(cls, text: str | Secret) -> Secret:
        """``"env:NAME"`` as a reference to ``NAME``; any other string as a value."""
        if isinstance(text, Secret):
            return text
        if not isinstance(text, str):
            raise InvalidNotificationConfig(
                f"A secret is a string (a value, or env:NAME), got {type(text).__name__}."
            )
        if text.startswith(ENV_PREFIX):
            return cls.env(text[len(ENV_PREFIX) :])
        return cls.value(text)

    @classmethod
    def hidden(cls) -> Secret:
        """A value that exists where the channel is stored but is not readable here."""
        return cls(token="")

    # -- storing -----------------------------------------------------------------------
    def to_stored(self) -> str:
        """The form kept in the database: ``env:NAME`` or the encrypted value.

        Raises:
            SecretError: the value cannot be encrypted (no usable key), or this is a
                hidden secret read from a server.
        """
        if self.env_name is not None:
            return ENV_PREFIX + self.env_name
        if self._token:
            return _STORED_PREFIX + self._token
        if self._value is None:
            raise SecretError("This secret is kept by the server; it cannot be stored here.")
        return _STORED_PREFIX + cipher().encrypt(self._value.encode()).decode()

    @classmethod
    def from_stored(cls, text: str) -> Secret:
        """The secret of a stored form (see :meth:`to_stored`), still encrypted."""
        if text.startswith(ENV_PREFIX):
            return cls(env_name=text[len(ENV_PREFIX) :])
        if text.startswith(_STORED_PREFIX):
            return cls(token=text[len(_STORED_PREFIX) :])
        raise SecretError(f"Unknown stored secret form {text[:8]!r}….")

    # -- reading -----------------------------------------------------------------------
    @property
    def given_value(self) -> str | None:
        """The value when it was given in clear in this process (not read back from
        a store), else None."""
        return self._value

    def reveal(self, field: str = "secret") -> str:
        """The value, to send a message: the environment variable's value, or the
        decrypted value.

        Raises:
            SecretError: the variable is unset, the value was encrypted with another
                key, or the value is kept on a server.
        """
        if self.env_name is not None:
            found = os.environ.get(self.env_name)
            if not found:
                raise SecretError(
                    f"The {field} is read from the environment variable {self.env_name}, "
                    "which is not set in this process: set it where messages are sent "
                    "(the server, or the flow's process)."
                )
            return found
        if self._value is not None:
            return self._value
        if not self._token:
            raise SecretError(f"The {field} is kept by the server and cannot be read here.")
        from cryptography.fernet import InvalidToken

        try:
            return cipher().decrypt(self._token.encode()).decode()
        except InvalidToken:
            raise SecretError(
                f"The {field} was encrypted with another key than this process's. Set "
                "CADENZA_SECRET_KEY to the key in use when the channel was created (or "
                f"copy its {KEY_FILE}), or set the {field} of the channel again."
            ) from None

    def describe(self) -> str:
        """``env:NAME`` for a reference, ``••••`` for a value: safe to show."""
        if self.env_name is not None:
            return ENV_PREFIX + self.env_name
        return MASK

    def public(self) -> dict[str, Any]:
        """What the API says about this secret: its kind and, for a reference, the
        variable's name; never the value."""
        if self.env_name is not None:
            return {"kind": "env", "env": self.env_name, "display": self.describe()}
        return {"kind": "value", "env": None, "display": MASK}

    def __repr__(self) -> str:
        return f"Secret({self.describe()})"

    __str__ = describe

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (self.env_name, self._value, self._token) == (
            other.env_name,
            other._value,
            other._token,
        )

    __hash__ = None  # type: ignore[assignment]


# -- the key ---------------------------------------------------------------------------
_lock = threading.Lock()
_ciphers: dict[str, Any] = {}


def cipher() -> Any:
    """The Fernet cipher of the key in force (``CADENZA_SECRET_KEY`` or the key file).

    Raises:
        SecretError: ``CADENZA_SECRET_KEY`` is not a Fernet key, or the key file
            cannot be read or created.
    """
    from cadenza.settings import get_settings

    settings = get_settings()
    source = settings.secret_key or str(settings.home / KEY_FILE)
    found = _ciphers.get(source)
    if found is not None:
        return found
    from cryptography.fernet import Fernet

    with _lock:
        if settings.secret_key:
            key = settings.secret_key.strip().encode()
        else:
            key = _key_file(settings.home / KEY_FILE)
        try:
            made = Fernet(key)
        except ValueError:
            raise SecretError(
                "CADENZA_SECRET_KEY is not a Fernet key (32 bytes, url-safe base64). Make "
                "one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
                if settings.secret_key
                else f"The key file {settings.home / KEY_FILE} does not hold a Fernet key; "
                "move it aside to have a new one made (secrets stored with it are then lost)."
            ) from None
        _ciphers[source] = made
        return made


def _key_file(path: Path) -> bytes:
    """The key in ``path``, created (mode 0600) with a new key when missing."""
    from cryptography.fernet import Fernet

    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise SecretError(f"Could not read the key file {path}: {exc.strerror or exc}.") from exc
    # Written whole to a file of its own, then linked into place: another process
    # never reads a half-written key, and the first one to link wins.
    key = Fernet.generate_key()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes().strip()
    except OSError as exc:
        raise SecretError(
            f"Could not create the key file {path} ({exc.strerror or exc}). Set "
            "CADENZA_SECRET_KEY, or CADENZA_HOME to a folder you can write to."
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return key


def reset_ciphers() -> None:
    """Forget the keys read so far (after the settings changed)."""
    with _lock:
        _ciphers.clear()
