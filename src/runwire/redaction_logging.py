"""Log redaction: :class:`RedactingFilter` masks registered secret values in log records,
and :func:`install_log_redaction` puts it where runwire's and uvicorn's records pass.

Both are also :mod:`runwire.redaction`'s names; they live here so that only a process
that sets up logging imports :mod:`logging` (loading a manifest does not).
"""

from __future__ import annotations

import logging

from runwire import redaction

__all__ = ["RedactingFilter", "install_log_redaction"]


class RedactingFilter(logging.Filter):
    """Masks registered secret values in log records; never drops a record.

    The message is formatted (``msg % args``) and redacted, so handlers get a record
    whose ``msg`` is the masked text and whose ``args`` are empty; the traceback text
    (``exc_text``) and ``stack_info`` are masked too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not redaction.registered_count():
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it for logging to report
            return True
        redact = redaction.redact
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_log_redaction(*logger_names: str) -> RedactingFilter:
    """Put the redacting filter on the named loggers, on each of their handlers, and on
    :data:`logging.lastResort` (what prints records when no handler is configured).

    Default: the root logger, ``runwire``, and uvicorn's three loggers. A filter on a
    logger only sees records logged on that logger, a filter on a handler sees every
    record it writes, so both are set. Call it after logging is configured; calling it
    again adds nothing twice. Returns the filter (one per process).
    """
    targets: list[logging.Filterer] = []
    for name in logger_names or redaction._LOGGERS:
        logger = logging.getLogger(name)
        targets += (logger, *logger.handlers)
    if logging.lastResort is not None:
        targets.append(logging.lastResort)
    for target in targets:
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
    return _FILTER
