"""runwire.client: call a served pipeline as a runnable, without langserve.

``RemoteRunnable("http://127.0.0.1:8000/chat")`` speaks LangServe's protocol over httpx
to ``runwire serve`` or a LangServe server: invoke, batch, stream, astream_events and
the schemas, with messages and documents decoded into runwire objects. See
docs/client.md.
"""

from __future__ import annotations

from runwire.client.errors import RemoteError, RemoteProtocolError
from runwire.client.remote import RemoteRunnable

__all__ = ["RemoteError", "RemoteProtocolError", "RemoteRunnable"]
