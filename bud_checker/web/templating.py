"""Jinja filters and globals for the French pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, before_render_template, flash

from ..engine.fr import date_fr, euros, nombre_fr, typographie
from .glossary import gloss, mark_seen
from .presentation import CONFIANCE_LABELS, iso_date, timeline_lines
from .savings_view import savings_view

PARIS = None
try:  # the display time zone of the dates of saved checks
    from zoneinfo import ZoneInfo

    PARIS = ZoneInfo("Europe/Paris")
except (ImportError, KeyError, ValueError):  # pragma: no cover - tzdata missing (ZoneInfoNotFoundError)
    PARIS = dt.timezone.utc


def _date_fr(value: Any) -> str:
    day = iso_date(value)
    return date_fr(day) if day else ""


def _datetime_fr(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return f"{date_fr(local.date())} à {local:%H:%M}"


def _nombre(value: Any) -> str:
    return nombre_fr(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _plain(value: Any) -> str:
    """A value of an expert test, as a tax expert reads it."""
    if value is None:
        return "je ne sais pas"
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, (int, float)):
        return nombre_fr(value)
    if isinstance(value, dict):
        return "; ".join(f"{k} : {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " | ".join(_plain(v) for v in value)
    return str(value)


# The context keys that carry messages built in Python (errors, flash-like notices): written with ordinary spaces,
# shown in French typography (non-breaking spaces before : ; ! ? and inside « », as `typographie` puts them).
MESSAGE_KEYS = ("message", "errors", "error_list", "general_errors")


def _french(value: Any) -> Any:
    if isinstance(value, str):
        return type(value)(typographie(value)) if hasattr(value, "__html__") else typographie(value)
    if isinstance(value, dict):
        return {key: _french(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_french(item) for item in value]
    return value


def _messages_in_french(sender: Any, template: Any, context: dict[str, Any], **extra: Any) -> None:
    """`before_render_template`: the messages of the page's context in French typography."""
    for key in MESSAGE_KEYS:
        if key in context:
            context[key] = _french(context[key])


def flash_fr(message: str, category: str = "message") -> None:
    """Flask's `flash`, the message in French typography."""
    flash(typographie(message), category)


def register_template_helpers(app: Flask) -> None:
    before_render_template.connect(_messages_in_french, app)
    app.add_template_filter(_date_fr, "date_fr")
    app.add_template_filter(_datetime_fr, "datetime_fr")
    app.add_template_filter(_nombre, "nombre")
    app.add_template_filter(euros, "euros")
    app.add_template_filter(_plain, "plain")
    app.add_template_global(CONFIANCE_LABELS, "CONFIANCE_LABELS")
    app.add_template_global(field_attrs, "field_attrs")
    app.add_template_global(savings_view, "savings_of")  # the savings estimate of a stored verdict, for any page
    app.add_template_global(timeline_lines, "timeline_lines")
    app.add_template_filter(gloss, "gloss")
    app.add_template_global(mark_seen, "glossary_seen")


def field_attrs(field: Any, errors: dict[str, str], **attrs: Any) -> dict[str, Any]:
    """HTML attributes of an input: its help text and error message tied to it, `aria-invalid` on error."""
    ids = []
    if field.description:
        ids.append(f"{field.id}-aide")
    if errors.get(field.name):
        ids.append(f"{field.id}-erreur")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return {key: value for key, value in attrs.items() if value is not False and value is not None}
