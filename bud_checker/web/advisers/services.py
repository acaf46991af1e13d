"""What the adviser pages and API do with the database: always within the adviser's organisation.

Every lookup takes the organisation id and filters on it, so that a case file, check or batch of another
organisation is simply not found (the doors answer 404, never 403: they do not confirm it exists).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sqlalchemy import and_, delete, false, func, or_, select, update
from sqlalchemy.orm import defer

from ...batch import MAX_LIGNES_WEB, BatchError, check_file, check_table, field_label
from ...communes import normalize
from ...dates import today_in_france
from ...engine.law import current_rules
from ...engine.verdict import evaluate
from ..catalogues import remember_current_catalogue
from ..extensions import db
from ..models import ID_PATTERN, utcnow
from .auth import check_password_rules, end_sessions, hash_password, normalize_email, security_event
from .models import new_auth_id
from .models import Adviser, Batch, Deletion, Dossier, DossierVerification, Organisation

_ID_RE = re.compile(ID_PATTERN)
PAGE_SIZE = 25
MAX_NOM = 200
MAX_NOTES = 10_000
MAX_BATCH_ERRORS_SHOWN = 200


class ValidationError(ValueError):
    """A French message naming the field: shown next to it on the page, or as the API's error."""

    def __init__(self, champ: str, message: str) -> None:
        super().__init__(f"{champ} : {message}")
        self.champ = champ
        self.message = message


# --- SIREN ----------------------------------------------------------------------------------------------------

def ascii_digits(text: str) -> str:
    """`text` with every decimal digit of any script (full-width ７, Arabic-Indic ٧, ...) as its ASCII digit, so
    that a SIREN is stored and compared in one form."""
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def clean_siren(raw: str | None) -> str | None:
    """The SIREN as 9 ASCII digits, None when empty; raises ValidationError when it cannot be one (python-stdnum:
    9 digits and the Luhn check key)."""
    from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError as StdnumError
    from stdnum.fr import siren as stdnum_siren

    text = re.sub(r"[\s.\u00a0\u202f\u2009\u2007'‐‑‒–—-]", "", unicodedata.normalize("NFKC", ascii_digits(raw or "")))
    if not text:
        return None
    shown = (raw or "").strip()[:30]
    try:
        text = stdnum_siren.validate(text)
    except (InvalidFormat, InvalidLength):
        raise ValidationError("siren", f"« {shown} » n'est pas un SIREN : attendu 9 chiffres, par exemple "
                                       "732 829 320.") from None
    except (InvalidChecksum, StdnumError):
        raise ValidationError("siren", f"le SIREN {format_siren(text)} n'est pas valide (sa clé de contrôle ne "
                                       "correspond pas) : vérifiez les chiffres.") from None
    if text == "000000000" or not text.isascii():
        raise ValidationError("siren", f"« {shown} » n'est pas un SIREN valide : vérifiez les chiffres.")
    return text


def format_siren(siren: str | None) -> str:
    return "" if not siren else f"{siren[:3]} {siren[3:6]} {siren[6:]}"


# --- organisations and advisers (admin command) ---------------------------------------------------------------

def create_organisation(nom: str) -> Organisation:
    nom = " ".join((nom or "").split())
    if not nom:
        raise ValidationError("nom", "indiquez le nom de l'organisation.")
    if len(nom) > MAX_NOM:
        raise ValidationError("nom", f"au plus {MAX_NOM} caractères.")
    if find_organisation(nom) is not None:
        raise ValidationError("nom", f"l'organisation « {nom} » existe déjà.")
    organisation = Organisation(nom=nom)
    db.session.add(organisation)
    db.session.commit()
    return organisation


def find_organisation(nom: str) -> Organisation | None:
    wanted = " ".join((nom or "").split()).lower()
    return db.session.execute(select(Organisation).where(func.lower(Organisation.nom) == wanted)).scalar_one_or_none()


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_adviser(organisation: Organisation, email: str, password: str, nom: str | None = None) -> Adviser:
    email = normalize_email(email)
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError("email", f"« {email[:60]} » n'est pas une adresse électronique.")
    if find_adviser(email) is not None:
        raise ValidationError("email", f"un conseiller utilise déjà l'adresse {email}.")
    problem = check_password_rules(password, email)
    if problem:
        raise ValidationError("mot_de_passe", problem)
    adviser = Adviser(organisation=organisation, email=email, nom=(nom or "").strip() or None,
                      password_hash=hash_password(password))
    db.session.add(adviser)
    db.session.commit()
    return adviser


def find_adviser(email: str) -> Adviser | None:
    return db.session.execute(select(Adviser).filter_by(email=normalize_email(email))).scalar_one_or_none()


def set_password(adviser: Adviser, password: str) -> None:
    """Change the password and end every session of the adviser (a new `auth_id`)."""
    problem = check_password_rules(password, adviser.email)
    if problem:
        raise ValidationError("mot_de_passe", problem)
    adviser.password_hash = hash_password(password)
    adviser.auth_id = new_auth_id()
    adviser.password_changed_at = utcnow()
    end_sessions(adviser, "mot_de_passe")
    db.session.commit()


def set_active(adviser: Adviser, active: bool) -> int:
    """Deactivate (or reactivate) an adviser; deactivation ends every session. Returns the sessions ended."""
    adviser.actif = bool(active)
    adviser.auth_id = new_auth_id()
    ended = 0 if active else end_sessions(adviser, "desactivation")
    db.session.commit()
    # An account is never deleted (its case files and audit rows keep its id): deactivation is its removal.
    security_event("adviser_reactivated" if active else "adviser_deactivated", adviser=adviser.id)
    return ended


# --- case files -----------------------------------------------------------------------------------------------

def _valid_id(value: str | None) -> bool:
    return bool(_ID_RE.fullmatch(value or ""))


def _get_in_organisation(model: type[Any], organisation_id: int, **ids: str | None) -> Any:
    """The row of `model` with these ids (`id`, `dossier_id`...) in the organisation, or None; an id that cannot
    be one is not looked up."""
    if not all(_valid_id(value) for value in ids.values()):
        return None
    return db.session.execute(
        select(model).filter_by(organisation_id=organisation_id, **ids)
    ).scalar_one_or_none()


def get_dossier(organisation_id: int, dossier_id: str) -> Dossier | None:
    return _get_in_organisation(Dossier, organisation_id, id=dossier_id)


def _clean_dossier_fields(nom: Any, siren: Any, notes: Any) -> tuple[str, str | None, str]:
    if not isinstance(nom, str) or not " ".join(nom.split()):
        raise ValidationError("nom", "indiquez le nom de l'entreprise cliente.")
    nom = " ".join(nom.split())
    if len(nom) > MAX_NOM:
        raise ValidationError("nom", f"au plus {MAX_NOM} caractères.")
    if siren is not None and not isinstance(siren, str):
        raise ValidationError("siren", "attendu une chaîne de 9 chiffres, par exemple \"732829320\".")
    if notes is None:
        notes = ""
    if not isinstance(notes, str):
        raise ValidationError("notes", "attendu du texte.")
    if len(notes) > MAX_NOTES:
        raise ValidationError("notes", f"au plus {MAX_NOTES} caractères.")
    return nom, clean_siren(siren), notes.replace("\r\n", "\n").strip()


def _check_siren_free(organisation_id: int, siren: str | None, dossier_id: str | None = None) -> None:
    if siren is None:
        return
    query = select(Dossier).where(Dossier.organisation_id == organisation_id, Dossier.siren == siren)
    if dossier_id:
        query = query.where(Dossier.id != dossier_id)
    other = db.session.execute(query).scalar_one_or_none()
    if other is not None:
        raise ValidationError("siren", f"le SIREN {format_siren(siren)} est déjà celui du dossier « {other.nom} ».")


def create_dossier(adviser: Adviser, nom: Any, siren: Any = None, notes: Any = "") -> Dossier:
    nom, siren, notes = _clean_dossier_fields(nom, siren, notes)
    _check_siren_free(adviser.organisation_id, siren)
    now = utcnow()
    dossier = Dossier(organisation_id=adviser.organisation_id, nom=nom, nom_recherche=normalize(nom)[:MAX_NOM],
                      siren=siren, notes=notes, created_by_id=adviser.id, updated_by_id=adviser.id,
                      created_at=now, updated_at=now)
    db.session.add(dossier)
    db.session.commit()
    return dossier


def update_dossier(adviser: Adviser, dossier: Dossier, nom: Any, siren: Any, notes: Any) -> Dossier:
    assert dossier.organisation_id == adviser.organisation_id
    nom, siren, notes = _clean_dossier_fields(nom, siren, notes)
    _check_siren_free(adviser.organisation_id, siren, dossier.id)
    dossier.nom, dossier.nom_recherche, dossier.siren, dossier.notes = nom, normalize(nom)[:MAX_NOM], siren, notes
    dossier.updated_at, dossier.updated_by_id = utcnow(), adviser.id
    db.session.commit()
    return dossier


@dataclass
class DossierRow:
    dossier: Dossier
    nombre: int
    derniere: DossierVerification | None


@dataclass
class DossierPage:
    rows: list[DossierRow]
    total: int
    page: int
    pages: int
    query: str


def search_dossiers(organisation_id: int, query: str = "", page: int = 1, per_page: int = PAGE_SIZE) -> DossierPage:
    """The organisation's case files, most recently active first; `query` matches the name (accents and case
    ignored) or the SIREN."""
    query = (query or "").strip()[:100]
    conditions = [Dossier.organisation_id == organisation_id]
    if query:
        words = normalize(query).split()
        digits = re.sub(r"[^0-9]", "", ascii_digits(query))
        name_match = [Dossier.nom_recherche.contains(word, autoescape=True) for word in words]
        clauses = []
        if name_match:
            clauses.append(and_(*name_match))
        if digits and len(digits) >= 3 and digits == re.sub(r"[\s.-]", "", ascii_digits(query)):
            clauses.append(Dossier.siren.contains(digits, autoescape=True))
        if not clauses:
            clauses.append(false())
        conditions.append(or_(*clauses))
    total = db.session.execute(select(func.count()).select_from(Dossier).where(*conditions)).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    dossiers = db.session.execute(
        select(Dossier).where(*conditions).order_by(Dossier.updated_at.desc(), Dossier.id)
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars().all()
    rows = []
    if dossiers:
        ids = [d.id for d in dossiers]
        counts = dict(db.session.execute(
            select(DossierVerification.dossier_id, func.count()).where(DossierVerification.dossier_id.in_(ids))
            .group_by(DossierVerification.dossier_id)).all())
        latest_sub = (select(DossierVerification.dossier_id, func.max(DossierVerification.created_at).label("last"))
                      .where(DossierVerification.dossier_id.in_(ids)).group_by(DossierVerification.dossier_id)
                      .subquery())
        latest = {v.dossier_id: v for v in db.session.execute(
            select(DossierVerification).join(latest_sub, and_(
                DossierVerification.dossier_id == latest_sub.c.dossier_id,
                DossierVerification.created_at == latest_sub.c.last))).scalars()}
        rows = [DossierRow(d, counts.get(d.id, 0), latest.get(d.id)) for d in dossiers]
    return DossierPage(rows, total, page, pages, query)


# --- checks in a case file ----------------------------------------------------------------------------------

def get_verification(organisation_id: int, dossier_id: str, verification_id: str) -> DossierVerification | None:
    return _get_in_organisation(DossierVerification, organisation_id, id=verification_id, dossier_id=dossier_id)


def history(dossier: Dossier) -> list[DossierVerification]:
    """The checks of a case file, newest first, without their (large) situation and verdict."""
    return list(db.session.execute(
        select(DossierVerification).where(DossierVerification.dossier_id == dossier.id)
        .order_by(DossierVerification.created_at.desc())
        .options(defer(DossierVerification.situation), defer(DossierVerification.verdict))
    ).scalars())


def record_dossier_verification(adviser: Adviser, dossier: Dossier, situation: Mapping[str, Any],
                                canal: str = "formulaire",
                                relance_de: DossierVerification | None = None) -> DossierVerification:
    """Evaluate `situation` under the rules of the day and store it in the case file, with who ran it.

    Raises `SituationError` on bad input (nothing stored)."""
    assert dossier.organisation_id == adviser.organisation_id
    verdict = evaluate(situation, date_verification=today_in_france()).to_dict()
    remember_current_catalogue()
    now = utcnow()
    verification = DossierVerification(
        dossier_id=dossier.id, organisation_id=dossier.organisation_id, adviser_id=adviser.id,
        situation=dict(situation), verdict=verdict, statut=verdict["statut"],
        regles_version=verdict["regles_version"], canal=canal,
        relance_de_id=relance_de.id if relance_de is not None else None, created_at=now,
    )
    db.session.add(verification)
    dossier.updated_at, dossier.updated_by_id = now, adviser.id
    db.session.commit()
    return verification


def rerun(adviser: Adviser, verification: DossierVerification) -> DossierVerification:
    """The same situation, evaluated again under the rules of the day, stored as a new check of the file."""
    return record_dossier_verification(adviser, verification.dossier, verification.situation, canal="relance",
                                       relance_de=verification)


def previous_verification(verification: DossierVerification) -> DossierVerification | None:
    """The check this one is compared with: the one it re-ran, or else the one before it in the file."""
    if verification.relance_de is not None:
        return verification.relance_de
    return db.session.execute(
        select(DossierVerification).where(
            DossierVerification.dossier_id == verification.dossier_id,
            DossierVerification.created_at < verification.created_at,
        ).order_by(DossierVerification.created_at.desc()).limit(1)
    ).scalar_one_or_none()


def rules_version() -> str:
    return current_rules().empreinte


# --- batches --------------------------------------------------------------------------------------------------

def pack(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def unpack(data: bytes) -> bytes:
    return zlib.decompress(data)


def clean_filename(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return name[:255] or "situations.csv"


def submit_batch(adviser: Adviser, data: bytes, filename: str | None, max_lines: int,
                 dossiers: bool = False) -> Batch:
    """Store the uploaded file as a batch «en_attente» and queue it for a worker (web/queue.py); answers at once.
    Raises `BatchError` at once for a file that cannot be read as a whole (empty, no header, too wide, too many
    lines...); each line is the worker's to check. With `dossiers`, the worker also files each checked line in its
    client's case file (`file_lines`)."""
    from ..queue import enqueue

    total = check_file(data, max_lines=max_lines)  # the file as a whole, at once (no line checked)
    now = utcnow()
    batch = Batch(organisation_id=adviser.organisation_id, adviser_id=adviser.id, nom_fichier=clean_filename(filename),
                  regles_version=rules_version(), synthese=None, fichier_source=pack(data), etat="en_attente",
                  lignes_faites=0, lignes_total=total, tentatives=0, classer_dossiers=bool(dossiers),
                  created_at=now, maj_le=now)
    db.session.add(batch)
    db.session.commit()
    batch_id = batch.id
    enqueue(batch_id)
    db.session.expire_all()  # immediate mode (tests): the task has already written its results
    return db.session.get(Batch, batch_id)


def store_batch_results(batch: Batch, data: bytes, progress: Callable[[int, int], None] | None = None,
                        max_lines: int = MAX_LIGNES_WEB) -> Batch:
    """Check every line of `data` (a CSV or XLSX table: batch.check_table) and store the result files and the
    summary in `batch`, now «termine» (and, when asked, each checked line in its case file). Raises `BatchError`
    when the file as a whole cannot be read (bad lines never stop the others: each gets its own message)."""
    files = check_table(data, max_lines=max_lines, progress=progress)
    result = files.result
    summary = dict(files.summary)
    errors = [{"ligne": line.ligne, "champ": line.erreur_champ, "libelle": field_label(line.erreur_champ),
               "message": line.erreur} for line in result.lines if line.statut == "erreur"]
    summary["erreurs"] = errors[:MAX_BATCH_ERRORS_SHOWN]
    batch.regles_version = result.regles_version or rules_version()
    batch.synthese = summary
    batch.resultats_csv, batch.resultats_xlsx = pack(files.csv), files.xlsx
    batch.etat, batch.lignes_faites, batch.lignes_total = "termine", len(result.lines), len(result.lines)
    batch.termine_le = batch.maj_le = utcnow()
    db.session.flush()
    if batch.classer_dossiers:
        batch.synthese = {**summary, "dossiers": file_lines(batch.adviser, batch, result.lines).to_dict()}
    db.session.commit()
    return batch


def run_and_store_batch(adviser: Adviser, data: bytes, filename: str | None, max_lines: int,
                        dossiers: bool = False) -> Batch:
    """A batch checked now, in this process (scripts and tests); the web doors queue theirs (`submit_batch`)."""
    batch = Batch(organisation_id=adviser.organisation_id, adviser_id=adviser.id, nom_fichier=clean_filename(filename),
                  regles_version=rules_version(), synthese=None, fichier_source=pack(data), etat="en_cours",
                  lignes_faites=0, tentatives=1, classer_dossiers=bool(dossiers), created_at=utcnow(),
                  maj_le=utcnow())
    db.session.add(batch)
    try:
        return store_batch_results(batch, data, max_lines=max_lines)
    except BatchError:
        db.session.rollback()
        raise


@dataclass
class Filing:
    """What `file_lines` did: case files created and updated, lines left out and why."""

    crees: int = 0
    mis_a_jour: int = 0
    sans_identite: list[int] = field(default_factory=list)   # lines with neither name nor SIREN
    en_erreur: int = 0                                         # lines not checked: nothing to record
    remarques: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"crees": self.crees, "mis_a_jour": self.mis_a_jour, "sans_identite": self.sans_identite[:200],
                "nombre_sans_identite": len(self.sans_identite), "en_erreur": self.en_erreur,
                "remarques": self.remarques[:MAX_BATCH_ERRORS_SHOWN]}


def file_lines(adviser: Adviser, batch: Batch, lines: list[Any]) -> Filing:
    """Record each checked line of a batch in its client's case file: the file with that SIREN, else the one with
    that name (accents and case ignored), else a new one; the check is added to its history (canal «lot»)."""
    organisation_id = adviser.organisation_id
    filing = Filing()
    by_siren: dict[str, Dossier] = {}
    by_name: dict[str, Dossier] = {}
    touched: set[str] = set()
    now = utcnow()
    if any(line.verdict is not None for line in lines):
        remember_current_catalogue()
    for line in lines:
        if line.verdict is None:
            filing.en_erreur += 1
            continue
        nom = " ".join((line.nom or "").split())[:MAX_NOM] or None
        siren = None
        if line.siren:
            try:
                siren = clean_siren(line.siren)
            except ValidationError as problem:
                filing.remarques.append({"ligne": line.ligne, "message": f"{problem.message} Dossier cherché par le "
                                                                         "nom."})
        if not nom and not siren:
            filing.sans_identite.append(line.ligne)
            continue
        dossier = by_siren.get(siren) if siren else None
        if dossier is None and siren:
            dossier = db.session.execute(select(Dossier).filter_by(organisation_id=organisation_id, siren=siren)
                                         ).scalar_one_or_none()
        key = normalize(nom)[:MAX_NOM] if nom else None
        if dossier is None and key:
            dossier = by_name.get(key) or db.session.execute(
                select(Dossier).filter_by(organisation_id=organisation_id, nom_recherche=key)
                .order_by(Dossier.updated_at.desc()).limit(1)).scalar_one_or_none()
            if dossier is not None and siren and dossier.siren and dossier.siren != siren:
                dossier = None  # same name, another company
        if dossier is None:
            dossier = Dossier(organisation_id=organisation_id, nom=nom or f"SIREN {format_siren(siren)}",
                              nom_recherche=key or normalize(f"siren {siren}"), siren=siren, notes="",
                              created_by_id=adviser.id, updated_by_id=adviser.id, created_at=now, updated_at=now)
            db.session.add(dossier)
            db.session.flush()
            filing.crees += 1
        elif dossier.id not in touched:
            filing.mis_a_jour += 1
            if siren and not dossier.siren:
                dossier.siren = siren
        touched.add(dossier.id)
        if dossier.siren:
            by_siren[dossier.siren] = dossier
        by_name[dossier.nom_recherche] = dossier
        verdict = line.verdict.to_dict()
        db.session.add(DossierVerification(
            dossier_id=dossier.id, organisation_id=organisation_id, adviser_id=adviser.id,
            situation=line.situation, verdict=verdict, statut=verdict["statut"],
            regles_version=verdict["regles_version"], canal="lot", lot_id=batch.id, lot_ligne=line.ligne,
            created_at=now))
        dossier.updated_at, dossier.updated_by_id = now, adviser.id
    return filing


def get_batch(organisation_id: int, batch_id: str) -> Batch | None:
    return _get_in_organisation(Batch, organisation_id, id=batch_id)


def list_batches(organisation_id: int, limit: int = 100) -> list[Batch]:
    return list(db.session.execute(
        select(Batch).where(Batch.organisation_id == organisation_id).order_by(Batch.created_at.desc()).limit(limit)
        .options(defer(Batch.fichier_source), defer(Batch.resultats_csv), defer(Batch.resultats_xlsx))
    ).scalars())


# --- deletion and retention ---------------------------------------------------------------------------------

@dataclass
class Removed:
    """What a deletion removed, counted (the audit row holds these counts and nothing else)."""

    dossiers: int = 0
    verifications: int = 0
    lots: int = 0

    def add(self, other: Removed) -> None:
        self.dossiers += other.dossiers
        self.verifications += other.verifications
        self.lots += other.lots

    def text(self) -> str:
        parts = [f"{self.dossiers} dossier{'s' if self.dossiers > 1 else ''} ({self.verifications} vérification"
                 f"{'s' if self.verifications > 1 else ''})", f"{self.lots} lot{'s' if self.lots > 1 else ''}"]
        return " et ".join(parts)


def _remove_dossiers(ids: list[str]) -> Removed:
    """Delete case files with their checks (the reports are made from the checks, never stored)."""
    if not ids:
        return Removed()
    count = db.session.execute(select(func.count()).select_from(DossierVerification)
                               .where(DossierVerification.dossier_id.in_(ids))).scalar_one()
    db.session.execute(update(DossierVerification).where(DossierVerification.dossier_id.in_(ids))
                       .values(relance_de_id=None))
    db.session.execute(delete(DossierVerification).where(DossierVerification.dossier_id.in_(ids)))
    db.session.execute(delete(Dossier).where(Dossier.id.in_(ids)))
    return Removed(dossiers=len(ids), verifications=count)


def _remove_batches(ids: list[str]) -> Removed:
    """Delete batches with their stored files; the checks they left in case files stay, unlinked."""
    if not ids:
        return Removed()
    db.session.execute(update(DossierVerification).where(DossierVerification.lot_id.in_(ids)).values(lot_id=None))
    db.session.execute(delete(Batch).where(Batch.id.in_(ids)))
    return Removed(lots=len(ids))


def _audit(organisation_id: int, adviser: Adviser | None, nature: str, removed: Removed, acteur: str) -> None:
    db.session.add(Deletion(organisation_id=organisation_id, adviser_id=adviser.id if adviser else None,
                            acteur=acteur, nature=nature, dossiers=removed.dossiers,
                            verifications=removed.verifications, lots=removed.lots, created_at=utcnow()))


def _delete_one(adviser: Adviser, found: Dossier | Batch, remove: Any, nature: str) -> Removed:
    assert found.organisation_id == adviser.organisation_id
    organisation_id, found_id = found.organisation_id, found.id
    db.session.expunge(found)
    removed = remove([found_id])
    _audit(organisation_id, adviser, nature, removed, adviser.email)
    db.session.commit()
    _deletion_event(nature, organisation_id, removed, adviser)
    return removed


def _deletion_event(nature: str, organisation_id: int, removed: Removed, adviser: Adviser | None = None) -> None:
    """The security log's line for a deletion: who (the adviser's id, or the command), what kind, how many;
    never a name, a file name, an identifier of what was deleted (the only key to it) or an e-mail address."""
    security_event("deleted", nature=nature, adviser=adviser.id if adviser else "administration",
                   organisation=organisation_id, dossiers=removed.dossiers, verifications=removed.verifications,
                   lots=removed.lots)


def delete_dossier(adviser: Adviser, dossier: Dossier) -> Removed:
    """Delete a case file with all its checks, leaving an audit row without its content."""
    return _delete_one(adviser, dossier, _remove_dossiers, "dossier")


def delete_batch(adviser: Adviser, batch: Batch) -> Removed:
    """Delete a batch with its stored files (the file sent and the results), leaving an audit row."""
    return _delete_one(adviser, batch, _remove_batches, "lot")


def dossier_counts(dossier: Dossier) -> int:
    return db.session.execute(select(func.count()).select_from(DossierVerification)
                              .where(DossierVerification.dossier_id == dossier.id)).scalar_one()


@dataclass
class PurgePlan:
    """Per organisation: the case files without activity since the date, and the batches sent before it."""

    avant: dt.datetime
    dossiers: dict[int, list[tuple[str, str, dt.datetime]]]   # organisation -> (id, nom, last activity)
    lots: dict[int, list[tuple[str, str, dt.datetime]]]       # organisation -> (id, file name, sent)
    organisations: dict[int, str]


def plan_purge(before: dt.datetime) -> PurgePlan:
    dossiers: dict[int, list[tuple[str, str, dt.datetime]]] = {}
    lots: dict[int, list[tuple[str, str, dt.datetime]]] = {}
    for org, id_, nom, when in db.session.execute(
            select(Dossier.organisation_id, Dossier.id, Dossier.nom, Dossier.updated_at)
            .where(Dossier.updated_at < before).order_by(Dossier.organisation_id, Dossier.updated_at)):
        dossiers.setdefault(org, []).append((id_, nom, when))
    for org, id_, nom, when in db.session.execute(
            select(Batch.organisation_id, Batch.id, Batch.nom_fichier, Batch.created_at)
            .where(Batch.created_at < before).order_by(Batch.organisation_id, Batch.created_at)):
        lots.setdefault(org, []).append((id_, nom, when))
    names = dict(db.session.execute(select(Organisation.id, Organisation.nom)).all())
    return PurgePlan(before, dossiers, lots, names)


def purge(plan: PurgePlan, acteur: str = "bud-checker admin purge") -> dict[int, Removed]:
    """Delete what `plan_purge` found, one audit row per organisation."""
    done: dict[int, Removed] = {}
    for org in sorted(set(plan.dossiers) | set(plan.lots)):
        removed = _remove_dossiers([d[0] for d in plan.dossiers.get(org, [])])
        removed.add(_remove_batches([b[0] for b in plan.lots.get(org, [])]))
        _audit(org, None, "purge", removed, acteur)
        done[org] = removed
    db.session.commit()
    for org, removed in done.items():
        _deletion_event("purge", org, removed)
    return done


def result_basename(batch: Batch) -> str:
    stem = batch.nom_fichier.rsplit(".", 1)[0] if "." in batch.nom_fichier else batch.nom_fichier
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_stem).strip("_.") or "lot"
    return f"{stem}-resultats"


__all__ = [
    "BatchError", "ValidationError", "clean_siren", "create_adviser", "create_dossier", "create_organisation",
    "delete_batch", "delete_dossier", "file_lines", "format_siren", "get_batch", "get_dossier", "get_verification",
    "list_batches", "ascii_digits", "plan_purge", "purge", "record_dossier_verification", "rerun",
    "run_and_store_batch", "store_batch_results", "submit_batch", "search_dossiers", "set_active", "set_password",
    "update_dossier",
]
