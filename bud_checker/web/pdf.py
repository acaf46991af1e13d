"""HTML to PDF with WeasyPrint, shared by every door that prints (the advisers' report, the public result).

WeasyPrint fetches nothing from the network: only the application's own static files are served to it.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app


def static_fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    static_root = Path(current_app.static_folder).resolve()
    static_prefix = (current_app.static_url_path or "/static").rstrip("/") + "/"

    class StaticOnlyFetcher(URLFetcher):
        """Serves the application's static files; refuses everything else (no network access)."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            path = unquote(urlsplit(url).path)
            if path.startswith(static_prefix):
                target = (static_root / path[len(static_prefix):]).resolve()
                if target.is_relative_to(static_root) and target.is_file():
                    mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": mime})
            raise ValueError(f"ressource refusée dans un document imprimé : {url}")

    return StaticOnlyFetcher()


def html_to_pdf(html: str) -> bytes:
    """The PDF of a page rendered for print (its stylesheets from /static only)."""
    from weasyprint import HTML

    document = HTML(string=html, base_url="http://rapport.invalid/", url_fetcher=static_fetcher())
    # app.css has screen rules WeasyPrint ignores (media queries, overflow...): not worth a warning each time.
    css_logger = logging.getLogger("weasyprint")
    level = css_logger.level
    css_logger.setLevel(logging.ERROR)
    try:
        return document.write_pdf()
    finally:
        css_logger.setLevel(level)
