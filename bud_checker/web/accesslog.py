"""gunicorn's access log without what it must not keep: `bud-checker serve` runs gunicorn with
`--logger-class bud_checker.web.accesslog.PrivateAccessLogger`.

- no query string (commune searches, `?q=` of the case-file search, `?suivant=`...): the path alone;
- no identifier of a saved check, case file or batch: an identifier is the only key to a public saved check,
  so a log line holding it would hand the check to whoever reads the log. Each is replaced by «…»;
- no Referer (it holds the previous page's address, identifiers included) and no request or response header
  or environment variable atoms (`%({name}i)s`...): they could carry cookies.

The method, the path so cleaned, the status, the size, the duration, the client address and the user agent stay.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

from .models import ID_PATTERN

# A path segment that is an identifier: 22 to 64 URL-safe characters holding a digit, «-» or «_», or mixed case
# (our own words, like «verifications» or «conseillers», are lower-case letters only).
_SEGMENT = re.compile(rf"(?<=/){ID_PATTERN}(?=/|$)")
HIDDEN = "…"
FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "-" "%(a)s" %(L)ss'


def clean_path(path: str) -> str:
    """The path without its query string and with every identifier replaced by «…»."""
    path = path.split("?", 1)[0]
    return _SEGMENT.sub(lambda match: HIDDEN if _looks_like_id(match.group(0)) else match.group(0), path)


def _looks_like_id(segment: str) -> bool:
    return not segment.islower() or not segment.isalpha()


class PrivateAccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        path = clean_path(environ.get("RAW_URI") or environ.get("PATH_INFO") or "/")
        kept = {key: value for key, value in atoms.items() if not key.startswith("{")}
        kept.update({
            "r": f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}",
            "U": clean_path(environ.get("PATH_INFO") or "/"),
            "q": "-",
            "f": "-",
        })
        return kept
