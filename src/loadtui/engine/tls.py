"""How the target's TLS certificate is checked: by the system's CAs, a given CA bundle, or not.

Gateways in front of inference servers often carry a self-signed or company-CA certificate.
``--ca-cert FILE`` checks the target against that bundle; ``--insecure`` skips the check (the
run says so at start). The workers' aiohttp connector and the run service's httpx calls to the
target (the burst pre-flight) use the same setting, so a run cannot pass its pre-flight and
then fail every request, or the other way round.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loadtui.errors import ConfigError
from loadtui.model.plan import TargetSpec

if TYPE_CHECKING:
    import ssl

__all__ = ["ca_context", "client_ssl"]


def ca_context(path: str, given: str = "[target] ca_cert") -> ssl.SSLContext:
    """A client context trusting the PEM bundle at ``path``; ConfigError (exit 2) naming where
    it was ``given`` when it is missing, unreadable or holds no certificate."""
    import ssl  # here: a run without --ca-cert needs no TLS module in its parent

    file = Path(path).expanduser()
    try:
        return ssl.create_default_context(cafile=str(file))
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{given} {path}: cannot be used as a CA bundle ({reason})") from None


def client_ssl(target: TargetSpec) -> ssl.SSLContext | bool:
    """aiohttp's ``ssl=`` and httpx's ``verify=``: True (system CAs), False (no check) or a
    context trusting ``target.ca_cert``."""
    if target.insecure:
        return False
    if target.ca_cert is not None:
        return ca_context(target.ca_cert)
    return True
