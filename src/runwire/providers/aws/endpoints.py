"""Where an AWS object may send requests: AWS's own endpoints of its service.

Used for objects built from untrusted manifests (``runwire.schema.trust``): their
``endpoint_url`` must be one of these or on the load's ``allowed_endpoints``.
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import urlsplit

__all__ = ["UNTRUSTED_CONFIG", "endpoint_prefix", "is_aws_endpoint"]


@cache
def endpoint_prefix(service: str) -> str:
    """The host prefix of ``service``'s AWS endpoints (``runtime.sagemaker``), from botocore."""
    from runwire.providers.aws.sessions import botocore_session

    session = botocore_session()
    try:
        model = session.get_component("data_loader").load_service_model(service, "service-2")
    except Exception:  # an unknown service: its name is the best guess
        return service
    return str(model.get("metadata", {}).get("endpointPrefix") or service)


_AWS_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def is_aws_endpoint(url: str, service: str) -> bool:
    """Whether ``url`` is one of AWS's own HTTPS endpoints of ``service``.

    Accepted: ``https://{prefix}[-fips].{region}.amazonaws.com`` (also ``.amazonaws.com.cn``
    and dual-stack ``.api.aws``) and interface VPC endpoints
    ``https://vpce-....{prefix}.{region}.vpce.amazonaws.com``. Any other host on an AWS
    domain (API Gateway, S3 buckets, Lambda URLs) can be anybody's, so it is not.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or port not in (None, 443):
        return False
    domain = next((d for d in _AWS_DOMAINS if host.endswith(d)), None)
    if domain is None:
        return False
    labels = host[: -len(domain)].split(".")
    prefix = endpoint_prefix(service).split(".")
    if labels[:1] and labels[0].startswith("vpce-") and labels[-1] == "vpce":
        labels = labels[1:-1]
    if len(labels) != len(prefix) + 1 or not _REGION.fullmatch(labels[-1]):
        return False
    first = labels[0].removesuffix("-fips")
    return [first, *labels[1:-1]] == prefix


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")

UNTRUSTED_CONFIG = frozenset(
    (
        "connect_timeout",
        "read_timeout",
        "retries",
        "max_pool_connections",
        "parameter_validation",
        "tcp_keepalive",
        "user_agent_extra",
        "user_agent_appid",
        "request_min_compression_size_bytes",
        "disable_request_compression",
        "request_checksum_calculation",
        "response_checksum_validation",
    )
)
"""botocore ``Config`` options an untrusted manifest may set: proxies, client
certificates, endpoint and signing settings are the deployer's."""
