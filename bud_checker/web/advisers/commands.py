"""`bud-checker admin ...`: create organisations and advisers (there is no open sign-up).

    bud-checker admin create-organisation "CCI Artois"
    bud-checker admin create-adviser --organisation "CCI Artois" --email a.martin@cci-artois.fr [--nom "Anne Martin"]
    bud-checker admin set-password --email a.martin@cci-artois.fr
    bud-checker admin deactivate-adviser --email a.martin@cci-artois.fr
    bud-checker admin sessions --email a.martin@cci-artois.fr [--fermer tout|NUMÉRO]
    bud-checker admin list
    bud-checker admin purge --avant 2025-01-01 [--simulation]     (or BUD_RETENTION_JOURS=730 bud-checker admin purge)

Passwords are never taken from the command line (it ends up in the shell history and in `ps`): they are
asked twice on the terminal, or read from the first line of standard input with --password-stdin. The
database is migrated first (as `serve` does), so these commands work on a fresh clone. Errors: exit status 2
and one French line on standard error.

`admin` is a click group, loaded by the CLI when run (bud_checker.cli.LAZY_COMMANDS); this module never
imports the CLI. Adding a sub-command: decorate a function with `@admin.command("name")`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import os
import sys
from types import SimpleNamespace
from typing import Callable

import click

from ...engine.fr import accord
from ...exits import EXIT_BAD_INPUT, EXIT_OK


def _app():
    from .. import create_app
    from ..commands import upgrade_database

    logging.disable(logging.INFO)  # Alembic's progress lines: noise for a one-line command
    try:
        upgrade_database()
    finally:
        logging.disable(logging.NOTSET)
    return create_app({"BUD_WARMUP": False})


def _read_password(args: SimpleNamespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise ValueError("mot de passe : l'entrée standard est vide ; "
                             "envoyez le mot de passe sur la première ligne.")
        return password
    if not sys.stdin.isatty():
        raise ValueError("mot de passe : pas de terminal pour le demander ; utilisez --password-stdin.")
    first = getpass.getpass("Mot de passe : ")
    second = getpass.getpass("Mot de passe, une seconde fois : ")
    if first != second:
        raise ValueError("mot de passe : les deux saisies diffèrent.")
    return first


def _run(work: Callable[[], str]) -> int:
    from .services import ValidationError

    try:
        message = work()
    except ValidationError as problem:
        sys.stderr.write(f"Erreur : {problem.champ} : {problem.message}\n")
        return EXIT_BAD_INPUT
    except ValueError as problem:
        sys.stderr.write(f"Erreur : {problem}\n")
        return EXIT_BAD_INPUT
    from ...engine.fr import typographie

    print(typographie(message))
    return EXIT_OK


def cmd_create_organisation(args: SimpleNamespace) -> int:
    def work() -> str:
        from .services import create_organisation

        with _app().app_context():
            organisation = create_organisation(args.nom)
            return f"Organisation créée : {organisation.nom} (n° {organisation.id})."

    return _run(work)


def cmd_create_adviser(args: SimpleNamespace) -> int:
    def work() -> str:
        from .auth import check_password_rules
        from .services import ValidationError, create_adviser, find_adviser, find_organisation

        with _app().app_context():
            organisation = find_organisation(args.organisation)
            if organisation is None:
                raise ValidationError("organisation", f"aucune organisation ne s'appelle « {args.organisation} » ; "
                                                      "créez-la avec bud-checker admin create-organisation.")
            if find_adviser(args.email) is not None:
                raise ValidationError("email", f"un conseiller utilise déjà l'adresse {args.email.strip().lower()}.")
            password = _read_password(args)
            problem = check_password_rules(password, args.email)
            if problem:
                raise ValidationError("mot de passe", problem)
            adviser = create_adviser(organisation, args.email, password, args.nom)
            return f"Conseiller créé : {adviser.email} ({organisation.nom})."

    return _run(work)


def _existing_adviser(email: str):
    """The adviser with this e-mail address; a ValidationError naming it when there is none."""
    from .services import ValidationError, find_adviser

    adviser = find_adviser(email)
    if adviser is None:
        raise ValidationError("email", f"aucun conseiller n'a l'adresse {email.strip().lower()}.")
    return adviser


def cmd_set_password(args: SimpleNamespace) -> int:
    def work() -> str:
        from .services import set_password

        with _app().app_context():
            adviser = _existing_adviser(args.email)
            set_password(adviser, _read_password(args))
            return f"Mot de passe changé pour {adviser.email} ; ses sessions ouvertes sont fermées."

    return _run(work)


def cmd_deactivate(args: SimpleNamespace) -> int:
    def work() -> str:
        from .services import set_active

        with _app().app_context():
            adviser = _existing_adviser(args.email)
            set_active(adviser, bool(args.reactiver))
            state = "réactivé" if args.reactiver else "désactivé ; ses sessions sont fermées"
            return f"Conseiller {adviser.email} {state}."

    return _run(work)


def cmd_sessions(args: SimpleNamespace) -> int:
    """List an adviser's open sessions, or end them (all, or one by the start of its number)."""
    def work() -> str:
        from ..extensions import db
        from .auth import end_sessions, open_sessions, security_event
        from .models import AdviserSession
        from .services import ValidationError

        with _app().app_context():
            adviser = _existing_adviser(args.email)
            sessions = open_sessions(adviser)
            if args.fermer is None:
                if not sessions:
                    return f"Aucune session ouverte pour {adviser.email}."
                lines = [f"Sessions ouvertes de {adviser.email} :"]
                for record in sessions:
                    lines.append(f"    {record.id[:8]}  ouverte le {record.created_at:%d/%m/%Y à %H:%M} UTC, "
                                 f"vue le {record.last_seen_at:%d/%m/%Y à %H:%M} UTC")
                lines.append("Fermez-les avec --fermer tout, ou l'une avec --fermer NUMÉRO (ses premiers caractères).")
                return "\n".join(lines)
            if args.fermer == "tout":
                count = end_sessions(adviser, "administration")
                db.session.commit()
                return f"{count} {accord(count, 'session fermée', 'sessions fermées')} pour {adviser.email}."
            chosen = [r for r in sessions if r.id.startswith(args.fermer)] if len(args.fermer) >= 4 else []
            if len(chosen) != 1:
                raise ValidationError("fermer", f"aucune session ouverte de {adviser.email} ne commence par "
                                                f"« {args.fermer} » (au moins 4 caractères) ; "
                                                "voyez la liste sans --fermer.")
            record: AdviserSession = chosen[0]
            record.ended_at, record.end_reason = utcnow(), "administration"
            db.session.commit()
            security_event("session_ended", adviser=adviser.id, reason="administration", count=1)
            return f"Session {record.id[:8]} de {adviser.email} fermée."

    from ..models import utcnow

    return _run(work)


def cmd_list(args: SimpleNamespace) -> int:
    def work() -> str:
        from sqlalchemy import select

        from ..extensions import db
        from .models import Organisation

        with _app().app_context():
            organisations = db.session.execute(select(Organisation).order_by(Organisation.nom)).scalars().all()
            if not organisations:
                return "Aucune organisation : créez-en une avec bud-checker admin create-organisation NOM."
            lines = []
            for organisation in organisations:
                lines.append(f"{organisation.nom} (n° {organisation.id})")
                for adviser in organisation.advisers:
                    state = "" if adviser.actif else " [désactivé]"
                    lines.append(f"    {adviser.email}{' — ' + adviser.nom if adviser.nom else ''}{state}")
            return "\n".join(lines)

    return _run(work)


RETENTION_ENV = "BUD_RETENTION_JOURS"


def _purge_date(args: SimpleNamespace) -> dt.datetime:
    """The cut-off: --avant AAAA-MM-JJ, else today minus BUD_RETENTION_JOURS days (UTC midnight)."""
    if args.avant:
        try:
            day = dt.date.fromisoformat(args.avant)
        except ValueError:
            raise ValueError(f"--avant : « {args.avant} » n'est pas une date au format AAAA-MM-JJ.") from None
    else:
        raw = os.environ.get(RETENTION_ENV, "").strip()
        if not raw:
            raise ValueError(f"--avant : indiquez une date (--avant AAAA-MM-JJ) ou la durée de conservation en jours "
                             f"dans la variable {RETENTION_ENV}.")
        if not raw.isdigit() or int(raw) < 1 or int(raw) > 36_500:
            raise ValueError(f"{RETENTION_ENV} : « {raw} » n'est pas un nombre de jours (entier de 1 à 36500).")
        day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=int(raw))
    if day > dt.datetime.now(dt.timezone.utc).date():
        raise ValueError(f"--avant : le {day:%d/%m/%Y} est dans le futur ; tout serait supprimé.")
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)


def cmd_purge(args: SimpleNamespace) -> int:
    def work() -> str:
        from .services import plan_purge, purge

        before = _purge_date(args)
        with _app().app_context():
            plan = plan_purge(before)
            if not plan.dossiers and not plan.lots:
                return f"Rien à supprimer : aucun dossier sans activité ni aucun lot avant le {before:%d/%m/%Y}."
            lines = [f"{'Seraient supprimés' if args.simulation else 'Supprimés'} (sans activité avant le "
                     f"{before:%d/%m/%Y}) :"]
            done = {} if args.simulation else purge(plan)
            for org in sorted(set(plan.dossiers) | set(plan.lots)):
                dossiers, lots = plan.dossiers.get(org, []), plan.lots.get(org, [])
                count = f" — {done[org].text()}" if org in done else ""
                lines.append(f"{plan.organisations.get(org, org)}{count}")
                for id_, nom, when in dossiers:
                    lines.append(f"    dossier {id_} « {nom} », dernière activité le {when:%d/%m/%Y}")
                for id_, nom, when in lots:
                    lines.append(f"    lot {id_} « {nom} », envoyé le {when:%d/%m/%Y}")
            if args.simulation:
                lines.append("Simulation : rien n'a été supprimé.")
            return "\n".join(lines)

    return _run(work)


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             short_help="administrer l'espace conseillers (organisations, conseillers)")
def admin() -> None:
    """Administrer l'espace conseillers (organisations, conseillers)."""



@admin.command("create-organisation", short_help="créer une organisation (une CCI)")
@click.argument("nom")
def create_organisation(nom: str) -> int:
    """Créer une organisation, par exemple « CCI Artois »."""
    return cmd_create_organisation(SimpleNamespace(nom=nom))


_PASSWORD_STDIN = click.option("--password-stdin", is_flag=True,
                               help="lire le mot de passe sur l'entrée standard (sinon il est demandé deux fois)")


@admin.command("create-adviser", short_help="créer le compte d'un conseiller")
@click.option("--organisation", required=True, help="nom de son organisation")
@click.option("--email", required=True, help="son adresse électronique (son identifiant)")
@click.option("--nom", help="son nom, affiché dans l'historique des dossiers")
@_PASSWORD_STDIN
def create_adviser(organisation: str, email: str, nom: str | None, password_stdin: bool) -> int:
    """Créer le compte d'un conseiller."""
    return cmd_create_adviser(SimpleNamespace(organisation=organisation, email=email, nom=nom,
                                              password_stdin=password_stdin))


@admin.command("set-password", short_help="changer le mot de passe d'un conseiller (ferme ses sessions)")
@click.option("--email", required=True)
@_PASSWORD_STDIN
def set_password(email: str, password_stdin: bool) -> int:
    """Changer le mot de passe d'un conseiller (ferme ses sessions)."""
    return cmd_set_password(SimpleNamespace(email=email, password_stdin=password_stdin))


@admin.command("deactivate-adviser", short_help="désactiver un conseiller (ferme ses sessions)")
@click.option("--email", required=True)
@click.option("--reactiver", is_flag=True, help="réactiver au lieu de désactiver")
def deactivate_adviser(email: str, reactiver: bool) -> int:
    """Désactiver un conseiller (ferme ses sessions)."""
    return cmd_deactivate(SimpleNamespace(email=email, reactiver=reactiver))


@admin.command("sessions", short_help="lister les sessions ouvertes d'un conseiller, ou les fermer")
@click.option("--email", required=True)
@click.option("--fermer", metavar="tout|NUMÉRO", help="fermer toutes ses sessions (tout) ou l'une d'elles")
def sessions(email: str, fermer: str | None) -> int:
    """Lister les sessions ouvertes d'un conseiller, ou les fermer (toutes, ou l'une par son numéro)."""
    return cmd_sessions(SimpleNamespace(email=email, fermer=fermer))


@admin.command("list", short_help="lister les organisations et leurs conseillers")
def list_advisers() -> int:
    """Lister les organisations et leurs conseillers."""
    return cmd_list(SimpleNamespace())


@admin.command("purge", short_help=f"supprimer les dossiers sans activité et les lots antérieurs à une date (ou à la "
                                   f"durée de {RETENTION_ENV})")
@click.option("--avant", help=f"date AAAA-MM-JJ : dossiers sans activité depuis, lots envoyés avant ; par défaut "
                              f"aujourd'hui moins {RETENTION_ENV} jours")
@click.option("--simulation", is_flag=True, help="afficher ce qui serait supprimé, sans supprimer")
def purge(avant: str | None, simulation: bool) -> int:
    """Supprimer les dossiers sans activité et les lots antérieurs à une date."""
    return cmd_purge(SimpleNamespace(avant=avant, simulation=simulation))
