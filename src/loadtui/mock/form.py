"""A request's form, as ``Request.post`` gives it: the Files API upload (``mock/batches.py``)
sends ``multipart/form-data``; a urlencoded form is read too.

The body is already whole and bounded (the server's ``client_max_size``), so the parts are
split from it in memory: no streaming parser, and none of the ``email`` package aiohttp uses.
"""

from __future__ import annotations

import io
import re

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

__all__ = ["FileField", "form_fields", "header_params"]

_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


class FileField:
    """An uploaded file of a multipart form (aiohttp.web's ``FileField``)."""

    __slots__ = ("content_type", "file", "filename", "headers", "name")

    def __init__(
        self, name: str, filename: str, data: bytes, content_type: str, headers: CIMultiDict[str]
    ) -> None:
        self.name = name
        self.filename = filename
        self.file = io.BytesIO(data)
        self.content_type = content_type
        self.headers = CIMultiDictProxy(headers)


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """A header's first value, lower-cased, and its ``; key=value`` parameters
    (``multipart/form-data; boundary=x`` -> ``("multipart/form-data", {"boundary": "x"})``)."""
    first, _, rest = value.partition(";")
    params = {}
    for key, raw in _PARAM.findall(";" + rest):
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[key.lower()] = raw.strip()
    return first.strip().lower(), params


def form_fields(content_type: str, body: bytes) -> MultiDictProxy[str | FileField]:
    """The fields of a form body; empty for a body that is no form; ValueError if malformed."""
    kind, params = header_params(content_type)
    fields: MultiDict[str | FileField] = MultiDict()
    try:
        if kind == "multipart/form-data":
            _multipart(body, params.get("boundary", ""), fields)
        elif kind == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qsl

            fields.extend(parse_qsl(body.decode(params.get("charset", "utf-8")), True))
    except LookupError as exc:  # a charset Python does not know: the client's mistake
        raise ValueError(f"unknown charset: {exc}") from None
    return MultiDictProxy(fields)


def _multipart(body: bytes, boundary: str, fields: MultiDict[str | FileField]) -> None:
    if not boundary or len(boundary) > 70:
        raise ValueError("multipart body without a valid boundary")
    parts = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    for part in parts[1:]:  # parts[0]: the preamble
        if part.startswith(b"--"):
            return  # the close delimiter: the rest is an epilogue
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep or head.lstrip(b" \t")[:2] not in (b"\r\n", b""):
            raise ValueError("malformed multipart part")
        headers: CIMultiDict[str] = CIMultiDict()
        for line in head.decode("utf-8", "replace").split("\r\n")[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError("malformed multipart header")
            headers.add(name.strip(), value.strip())
        disposition, params = header_params(headers.get("Content-Disposition", ""))
        if disposition != "form-data" or "name" not in params:
            raise ValueError("multipart part without a form-data name")
        content_type = headers.get("Content-Type", "text/plain")
        if "filename" in params:
            fields.add(
                params["name"],
                FileField(params["name"], params["filename"], data, content_type, headers),
            )
        else:
            charset = header_params(content_type)[1].get("charset", "utf-8")
            fields.add(params["name"], data.decode(charset))
    raise ValueError("multipart body without its closing delimiter")
