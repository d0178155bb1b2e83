"""Canonical import fields and the header names that mean them (pure, no database).

``suggest_mapping`` proposes, for the columns of an uploaded table, the canonical field each
one holds, from header synonyms in English, German, French and Dutch and the names used by
the exports of common CRMs (Salesforce, HubSpot, Pipedrive, Odoo, the Maven sample data).
Headers are compared normalised (case, accents, punctuation, camelCase and whitespace do not
matter): exact synonyms first, then token overlap. No field is proposed for two columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from django.utils.translation import gettext as _

__all__ = [
    "CANONICAL_FIELDS",
    "ENTITIES",
    "SYNONYMS",
    "field_for_header",
    "guess_entity",
    "normalise_header",
    "suggest_mapping",
]

ENTITIES = ("opportunities", "accounts", "contacts", "leads", "activities", "history", "users")

CANONICAL_FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": (
        "external_id", "name", "domain", "website", "phone", "street", "postal_code", "city",
        "country", "industry", "account_type", "tier", "status", "region", "employees",
        "annual_revenue", "owner", "parent", "tags", "description", "created_at",
    ),
    "contacts": (
        "external_id", "first_name", "last_name", "full_name", "email", "phone", "mobile",
        "job_title", "language", "account", "account_external_id", "role", "owner", "tags",
        "notes", "created_at",
    ),
    "opportunities": (
        "external_id", "name", "account", "account_external_id", "owner", "pipeline", "stage",
        "outcome", "amount", "currency", "probability", "expected_close", "created_at",
        "closed_on", "source", "product", "lost_reason", "lost_note", "forecast_category",
        "next_step", "contact_email",
    ),
    "history": (
        "opportunity_external_id", "opportunity", "field", "stage", "old_value", "new_value",
        "amount", "probability", "expected_close", "occurred_at", "actor",
    ),
    "activities": (
        "external_id", "type", "subject", "description", "due_on", "starts_at", "ends_at",
        "done_at", "done", "duration_minutes", "outcome", "owner", "account",
        "account_external_id", "contact_email", "opportunity_external_id",
    ),
    "leads": (
        "external_id", "first_name", "last_name", "full_name", "company", "email", "phone",
        "source", "campaign", "status", "owner", "created_at", "notes",
    ),
    "users": ("name", "first_name", "last_name", "email", "role", "team", "active"),
}  # fmt: skip
"""Entities with custom fields also accept ``custom.<key>`` (accounts, contacts, opportunities)."""

# --- synonyms ---------------------------------------------------------------------------------
# Written naturally; they are normalised when the index is built. The field name itself is
# always a synonym too (so the native export, whose headers are field names, maps itself).

_OWNER = [
    "owner", "owner name", "assigned to", "sales rep", "salesperson", "sales person",
    "account manager", "responsible", "verantwortlicher", "verantwortlich", "zuständig",
    "besitzer", "betreuer", "zugewiesen an", "vertriebsmitarbeiter", "propriétaire",
    "responsable", "commercial", "assigné à", "eigenaar", "verantwoordelijke",
    "toegewezen aan", "accountmanager",
]  # fmt: skip
_CREATED = [
    "created", "created at", "created date", "create date", "created on", "date created",
    "creation date", "erstellt", "erstellt am", "erstellungsdatum", "angelegt am",
    "anlagedatum", "date de création", "créé le", "date création", "aangemaakt",
    "aangemaakt op", "aanmaakdatum",
]  # fmt: skip
_EMAIL = [
    "email", "e-mail", "email address", "e-mail address", "mail", "e-mail-adresse",
    "emailadresse", "courriel", "adresse e-mail", "adresse email", "mél", "e-mailadres",
    "emailadres",
]  # fmt: skip
_PHONE = [
    "phone", "phone number", "telephone", "tel", "business phone", "work phone",
    "office phone", "company phone", "telefon", "telefonnummer", "telefon geschäftlich",
    "téléphone", "tél", "numéro de téléphone", "téléphone professionnel", "telefoon",
    "telefoonnummer",
]  # fmt: skip
_FIRST = ["first name", "firstname", "given name", "forename", "vorname", "prénom", "voornaam"]
_LAST = [
    "last name", "lastname", "surname", "family name", "nachname", "familienname", "nom",
    "nom de famille", "achternaam", "familienaam",
]  # fmt: skip
_FULL = [
    "full name", "name", "contact name", "person", "person name", "display name",
    "vollständiger name", "ganzer name", "nom complet", "volledige naam", "naam",
]  # fmt: skip
_COMPANY = [
    "account", "account name", "company", "company name", "organization", "organisation",
    "organization name", "organisation name", "associated company", "customer",
    "customer name", "firma", "firmenname", "unternehmen", "unternehmensname", "kunde",
    "société", "entreprise", "nom de l'entreprise", "raison sociale", "client", "compte",
    "bedrijf", "bedrijfsnaam", "organisatie", "klant",
]  # fmt: skip
_COMPANY_ID = [
    "account id", "company id", "organization id", "organisation id", "org id",
    "customer id", "associated company id", "account external id", "kunden-id",
    "firmen-id", "id société", "id entreprise", "bedrijfs-id", "klant-id",
]  # fmt: skip
_NOTES = [
    "notes", "note", "comments", "comment", "remarks", "notizen", "notiz", "bemerkungen",
    "bemerkung", "kommentar", "anmerkungen", "remarques", "commentaires", "commentaire",
    "notities", "opmerkingen", "opmerking",
]  # fmt: skip
_DESCRIPTION = [
    "description",
    "about",
    "details",
    "beschreibung",
    "beschrijving",
    "omschrijving",
]
_TAGS = [
    "tags", "tag", "labels", "label", "keywords", "schlagwörter", "stichwörter",
    "étiquettes", "mots clés", "trefwoorden",
]  # fmt: skip
_SOURCE = [
    "source", "lead source", "original source", "original source type", "channel",
    "quelle", "lead-quelle", "herkunft", "origine", "source du lead", "canal", "bron",
    "herkomst", "kanaal",
]  # fmt: skip
_AMOUNT = [
    "amount", "value", "deal value", "deal amount", "opportunity amount", "expected revenue",
    "close value", "revenue", "total", "betrag", "wert", "volumen", "auftragswert",
    "erwarteter umsatz", "montant", "valeur", "revenu attendu", "montant de l'affaire",
    "bedrag", "waarde", "verwachte omzet",
]  # fmt: skip
_PROBABILITY = [
    "probability", "probability (%)", "win probability", "deal probability",
    "wahrscheinlichkeit", "abschlusswahrscheinlichkeit", "probabilité",
    "probabilité de succès", "kans", "waarschijnlijkheid", "slaagkans",
]  # fmt: skip
_EXPECTED_CLOSE = [
    "close date", "expected close date", "expected close", "expected closing",
    "expected closing date", "closing date", "estimated close date", "abschlussdatum",
    "erwartetes abschlussdatum", "voraussichtlicher abschluss", "date de clôture",
    "date de clôture prévue", "clôture prévue", "sluitingsdatum",
    "verwachte sluitingsdatum", "verwachte afsluitdatum",
]  # fmt: skip
_STAGE = [
    "stage", "deal stage", "sales stage", "opportunity stage", "stage name", "phase",
    "verkaufsphase", "stufe", "étape", "étape de vente", "phase de vente", "fase",
    "verkoopfase",
]  # fmt: skip

SYNONYMS: dict[str, dict[str, list[str]]] = {
    "accounts": {
        "external_id": [
            "id", "account id", "company id", "organization id", "organisation id",
            "record id", "external id", "customer id", "customer number", "account number",
            "kundennummer", "kunden-nr", "firmen-id", "numéro client", "identifiant",
            "klantnummer", "debiteurnummer",
        ],
        "name": [
            "name", "account name", "account", "company", "company name", "organization",
            "organisation", "organization name", "customer", "customer name", "firma",
            "firmenname", "unternehmen", "unternehmensname", "kunde", "société", "nom",
            "nom de l'entreprise", "entreprise", "raison sociale", "client", "bedrijf",
            "bedrijfsnaam", "organisatie", "naam", "klant", "klantnaam",
        ],
        "domain": [
            "domain", "company domain name", "domain name", "website domain", "domäne",
            "domaine", "domein",
        ],
        "website": [
            "website", "web site", "url", "homepage", "webseite", "internetseite", "site web",
            "site internet", "webpagina",
        ],
        "phone": _PHONE,
        "street": [
            "street", "street address", "address", "billing street", "address line 1",
            "straße", "strasse", "adresse", "rue", "straat", "adres",
        ],
        "postal_code": [
            "postal code", "zip", "zip code", "postcode", "billing zip/postal code",
            "billing postal code", "plz", "postleitzahl", "code postal", "cp",
        ],
        "city": ["city", "town", "billing city", "ort", "stadt", "ville", "plaats", "stad",
                 "woonplaats"],
        "country": ["country", "billing country", "country/region", "office location", "land",
                    "pays"],
        "industry": ["industry", "sector", "branche", "industrie", "secteur",
                     "secteur d'activité"],
        "account_type": [
            "account type", "type", "company type", "customer type", "kundentyp", "firmentyp",
            "type de compte", "type de société", "type de client", "soort", "type bedrijf",
            "klanttype",
        ],
        "tier": ["tier", "potential", "rating", "account rating", "klasse", "potenzial",
                 "potentiel", "potentieel"],
        "status": ["status", "account status", "lifecycle stage", "kundenstatus", "statut"],
        "region": ["region", "territory", "sales territory", "gebiet", "vertriebsgebiet",
                   "région", "territoire", "regio", "gebied"],
        "employees": [
            "employees", "number of employees", "employee count", "headcount", "mitarbeiter",
            "anzahl mitarbeiter", "mitarbeiterzahl", "beschäftigte", "effectif",
            "nombre d'employés", "employés", "salariés", "medewerkers", "aantal medewerkers",
            "werknemers",
        ],
        "annual_revenue": [
            "annual revenue", "revenue", "turnover", "umsatz", "jahresumsatz",
            "chiffre d'affaires", "chiffre d'affaires annuel", "omzet", "jaaromzet",
        ],
        "owner": [*_OWNER, "account owner", "company owner", "kundenbetreuer"],
        "parent": [
            "parent", "parent account", "parent company", "subsidiary of",
            "muttergesellschaft", "mutterunternehmen", "übergeordnetes unternehmen",
            "société mère", "maison mère", "moederbedrijf", "moedermaatschappij",
        ],
        "tags": _TAGS,
        "description": [*_DESCRIPTION, *_NOTES],
        "created_at": _CREATED,
    },
    "contacts": {
        "external_id": [
            "id", "contact id", "record id", "external id", "person id", "kontakt-id",
            "kontaktnummer", "identifiant", "contactnummer",
        ],
        "first_name": _FIRST,
        "last_name": _LAST,
        "full_name": [*_FULL, "contact", "ansprechpartner", "kontakt", "contactpersoon"],
        "email": _EMAIL,
        "phone": _PHONE,
        "mobile": [
            "mobile", "mobile phone", "mobile phone number", "mobile number", "cell",
            "cell phone", "mobil", "mobiltelefon", "mobilnummer", "handy", "handynummer",
            "portable", "téléphone portable", "mobiel", "mobiele telefoon", "mobiel nummer",
            "gsm",
        ],
        "job_title": [
            "job title", "title", "position", "jobtitel", "funktion", "berufsbezeichnung",
            "stellung", "fonction", "poste", "intitulé du poste", "functie", "functietitel",
        ],
        "language": ["language", "preferred language", "sprache", "langue", "taal"],
        "account": [*_COMPANY, "employer", "arbeitgeber"],
        "account_external_id": _COMPANY_ID,
        "role": ["role", "contact role", "rolle", "rôle", "rol"],
        "owner": [*_OWNER, "contact owner", "kontaktinhaber"],
        "tags": _TAGS,
        "notes": [*_NOTES, *_DESCRIPTION],
        "created_at": _CREATED,
    },
    "opportunities": {
        "external_id": [
            "id", "opportunity id", "deal id", "record id", "external id", "deal number",
            "chancen-id", "verkaufschancen-id", "id opportunité", "id affaire",
            "verkoopkans-id", "deal-id",
        ],
        "name": [
            "name", "opportunity name", "opportunity", "deal name", "deal", "title",
            "deal title", "verkaufschance", "chance", "name der verkaufschance", "titel",
            "bezeichnung", "opportunité", "nom de l'opportunité", "affaire", "nom",
            "nom de l'affaire", "titre", "verkoopkans", "naam", "dealnaam",
        ],
        "account": _COMPANY,
        "account_external_id": _COMPANY_ID,
        "owner": [
            *_OWNER, "opportunity owner", "deal owner", "sales agent", "user", "verkäufer",
            "vendeur", "verkoper",
        ],
        "pipeline": ["pipeline", "sales pipeline", "deal pipeline", "funnel",
                     "vertriebspipeline", "pipeline de vente", "verkooppijplijn"],
        "stage": _STAGE,
        "outcome": [
            "status", "outcome", "result", "won/lost", "deal status", "ergebnis", "ausgang",
            "statut", "résultat", "resultaat", "uitkomst",
        ],
        "amount": _AMOUNT,
        "currency": [
            "currency", "opportunity currency", "deal currency", "currency code", "währung",
            "devise", "monnaie", "valuta", "munteenheid",
        ],
        "probability": _PROBABILITY,
        "expected_close": _EXPECTED_CLOSE,
        "created_at": [*_CREATED, "deal created", "opportunity created", "engage date",
                       "add time"],
        "closed_on": [
            "closed on", "closed date", "date closed", "actual close date", "won time",
            "lost time", "close time", "won date", "lost date", "geschlossen am",
            "abgeschlossen am", "gewonnen am", "verloren am", "date de fermeture", "fermé le",
            "date de gain", "gesloten op", "datum gesloten", "gewonnen op",
        ],
        "source": _SOURCE,
        "product": ["product", "product line", "products", "produkt", "produktlinie",
                    "produit", "gamme de produits", "productlijn"],
        "lost_reason": [
            "lost reason", "loss reason", "reason lost", "closed lost reason",
            "reason for loss", "verlustgrund", "grund für verlust", "absagegrund",
            "raison de la perte", "motif de perte", "raison perdue", "reden verlies",
            "reden van verlies", "verliesreden",
        ],
        "lost_note": [
            "lost note", "loss note", "lost reason note", "lost comment", "verlustnotiz",
            "verlustkommentar", "note de perte", "commentaire de perte",
            "toelichting verlies",
        ],
        "forecast_category": ["forecast category", "forecast", "prognosekategorie",
                              "catégorie de prévision", "prognosecategorie"],
        "next_step": ["next step", "next steps", "nächster schritt", "nächste schritte",
                      "prochaine étape", "volgende stap"],
        "contact_email": [
            "contact email", "contact e-mail", "primary contact email", "person email",
            "kontakt e-mail", "e-mail du contact", "email contactpersoon", *_EMAIL,
        ],
    },
    "history": {
        "opportunity_external_id": [
            "opportunity id", "deal id", "opportunity external id", "opportunity record id",
            "deal record id", "chancen-id", "id opportunité", "verkoopkans-id",
        ],
        "opportunity": ["opportunity", "opportunity name", "deal", "deal name",
                        "verkaufschance", "opportunité", "affaire", "verkoopkans"],
        "field": ["field", "changed field", "field event", "feld", "champ", "veld"],
        "stage": ["to stage", *_STAGE],
        "old_value": ["old value", "from", "from stage", "previous value", "alter wert",
                      "ancienne valeur", "oude waarde"],
        "new_value": ["new value", "to", "neuer wert", "nouvelle valeur", "nieuwe waarde"],
        "amount": _AMOUNT,
        "probability": _PROBABILITY,
        "expected_close": _EXPECTED_CLOSE,
        "occurred_at": [
            "occurred at", "date", "changed at", "change date", "edit date", "timestamp",
            "last modified", "last modified date", "modified date", "datum", "geändert am",
            "änderungsdatum", "zeitpunkt", "date de modification", "modifié le",
            "gewijzigd op", "wijzigingsdatum", "created date", "created", "created at",
        ],
        "actor": [
            "actor", "changed by", "modified by", "last modified by", "edited by", "user",
            "created by", "created by id", "geändert von", "bearbeiter", "modifié par",
            "gewijzigd door",
        ],
    },
    "activities": {
        "external_id": ["id", "activity id", "task id", "event id", "record id", "external id",
                        "aktivitäts-id"],
        "type": ["type", "activity type", "task type", "typ", "aktivitätstyp", "art",
                 "type d'activité", "soort", "activiteitstype"],
        "subject": ["subject", "title", "activity", "name", "betreff", "titel", "sujet",
                    "objet", "titre", "onderwerp"],
        "description": [*_DESCRIPTION, *_NOTES],
        "due_on": ["due date", "due", "due on", "deadline", "fällig", "fällig am",
                   "fälligkeitsdatum", "échéance", "date d'échéance", "vervaldatum"],
        "starts_at": ["start", "start date", "start time", "starts at", "begin", "beginn",
                      "startzeit", "startdatum", "début", "date de début", "heure de début",
                      "begintijd", "aanvang"],
        "ends_at": ["end", "end date", "end time", "ends at", "ende", "endzeit", "enddatum",
                    "fin", "date de fin", "heure de fin", "eindtijd", "einddatum"],
        "done_at": ["done at", "completed at", "completed date", "completion date",
                    "done time", "marked as done time", "erledigt am", "terminé le",
                    "date de réalisation", "afgerond op", "voltooid op"],
        "done": ["done", "completed", "is done", "erledigt", "terminé", "fait", "afgerond",
                 "gedaan", "voltooid"],
        "duration_minutes": ["duration", "duration minutes", "minutes", "dauer",
                             "dauer minuten", "durée", "duur", "duur minuten"],
        "outcome": ["outcome", "result", "call outcome", "ergebnis", "résultat", "resultaat",
                    "uitkomst"],
        "owner": [*_OWNER, "activity owner", "task owner", "user"],
        "account": _COMPANY,
        "account_external_id": _COMPANY_ID,
        "contact_email": ["contact email", "contact e-mail", "person email", *_EMAIL],
        "opportunity_external_id": ["opportunity id", "deal id", "chancen-id",
                                    "id opportunité", "verkoopkans-id"],
    },
    "leads": {
        "external_id": ["id", "lead id", "record id", "external id", "lead-nummer"],
        "first_name": _FIRST,
        "last_name": _LAST,
        "full_name": [*_FULL, "lead name", "lead"],
        "company": [
            "company", "company name", "organization", "organisation", "account", "firma",
            "firmenname", "unternehmen", "société", "entreprise", "nom de l'entreprise",
            "bedrijf", "bedrijfsnaam", "organisatie",
        ],
        "email": _EMAIL,
        "phone": [*_PHONE, "mobile", "mobile phone"],
        "source": _SOURCE,
        "campaign": ["campaign", "campaign name", "kampagne", "campagne", "campagnenaam"],
        "status": ["status", "lead status", "statut", "statut du lead", "leadstatus"],
        "owner": [*_OWNER, "lead owner"],
        "created_at": _CREATED,
        "notes": [*_NOTES, *_DESCRIPTION],
    },
    "users": {
        "name": ["name", "full name", "user", "user name", "sales agent", "display name",
                 "benutzer", "benutzername", "mitarbeiter", "utilisateur", "naam",
                 "gebruiker", "medewerker"],
        "first_name": _FIRST,
        "last_name": _LAST,
        "email": _EMAIL,
        "role": ["role", "profile", "rolle", "rôle", "rol"],
        "team": ["team", "sales team", "regional office", "office", "vertriebsteam",
                 "équipe", "équipe commerciale", "verkoopteam"],
        "active": ["active", "is active", "enabled", "aktiv", "actif", "actief"],
    },
}  # fmt: skip

_STOPWORDS = frozenset(
    (
        "the", "of", "a", "an", "de", "du", "des", "la", "le", "les", "l", "d", "der", "die",
        "das", "den", "dem", "van", "het", "een", "en", "et", "und", "and", "von", "vom", "in",
        "op", "sur", "on", "for", "pour", "fur", "voor",
    )
)  # fmt: skip
# Shared only through one of these, two headers are not considered alike.
_GENERIC = frozenset(
    (
        "date", "datum", "name", "naam", "nom", "id", "nr", "no", "number", "nummer", "numero",
        "code", "type", "value", "wert", "waarde", "valeur", "time", "zeit", "tijd", "heure",
    )
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[\W_]+")


def normalise_header(text: str) -> str:
    """Lower-case words without accents or punctuation: "E-Mail-Adresse" → "e mail adresse",
    "closeDate" → "close date", "Probabilité (%)" → "probabilite"."""
    text = _CAMEL.sub(" ", str(text))
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text).split())


def _compact(normalised: str) -> str:
    return normalised.replace(" ", "")


def _tokens(normalised: str) -> frozenset[str]:
    return frozenset(
        word[:-1] if len(word) > 3 and word.endswith("s") else word
        for word in normalised.split()
        if word not in _STOPWORDS
    )


@dataclass(frozen=True)
class _Index:
    exact: dict[str, str]  # compact normalised synonym → field
    tokens: dict[str, tuple[frozenset[str], ...]]  # field → token sets of its synonyms


@cache
def _index(entity: str) -> _Index:
    if entity not in SYNONYMS:
        raise ValueError(
            _("Unknown entity %(entity)s; expected one of %(entities)s.")
            % {"entity": repr(entity), "entities": ", ".join(ENTITIES)}
        )
    exact: dict[str, str] = {}
    tokens: dict[str, tuple[frozenset[str], ...]] = {}
    for field, variants in SYNONYMS[entity].items():
        names = [field, *variants]
        for name in names:
            exact.setdefault(_compact(normalise_header(name)), field)
        tokens[field] = tuple(t for t in {_tokens(normalise_header(name)) for name in names} if t)
    return _Index(exact, tokens)


def field_for_header(header: str, entity: str) -> str | None:
    """The canonical field a header names exactly (after normalisation), if any."""
    return _index(entity).exact.get(_compact(normalise_header(header)))


# Per-stage columns (HubSpot "Date entered “Won (Sales Pipeline)”") belong to the mapping's
# stage_dates, and yes/no flags ("IsClosed", "IsWon") to no field: exact synonyms only.
_NO_OVERLAP = re.compile(
    r"^(date entered|date exited|latest time in|cumulative time in|time in|is) "
)


def _overlap(header: frozenset[str], synonym: frozenset[str]) -> float:
    """How much of the header a synonym explains when the header contains all of it."""
    if not synonym or not synonym <= header or synonym <= _GENERIC:
        return 0.0
    generic = len(synonym & _GENERIC)  # "name", "date" ... say less than the other words
    return (len(synonym) - generic / 2) / len(header)


def suggest_mapping(headers: Sequence[str], entity: str) -> dict[str, str]:
    """Column header → canonical field for the columns recognised (others are left out).

    An exact synonym wins; otherwise a header containing every word of a synonym, when those
    words are at least half of the header's and no other field fits as well. Among equals
    the earlier column wins; every field is proposed at most once."""
    index = _index(entity)
    candidates: list[tuple[float, int, str, str]] = []
    for position, header in enumerate(headers):
        normalised = normalise_header(header)
        if not normalised:
            continue
        field = index.exact.get(_compact(normalised))
        if field is not None:
            candidates.append((2.0, -position, header, field))
            continue
        if _NO_OVERLAP.match(normalised):
            continue
        words = _tokens(normalised)
        scores = {
            field: max((_overlap(words, synonym) for synonym in synonyms), default=0.0)
            for field, synonyms in index.tokens.items()
        }
        top = max(scores.values(), default=0.0)
        best = [field for field, score in scores.items() if score == top]
        if top >= 0.5 and len(best) == 1:
            candidates.append((top, -position, header, best[0]))
    candidates.sort(reverse=True)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for _score, _position, header, field in candidates:
        if header in mapping or field in used:
            continue
        mapping[header] = field
        used.add(field)
    return {header: mapping[header] for header in headers if header in mapping}


def guess_entity(headers: Sequence[str]) -> str:
    """The entity whose header names the columns match best ("opportunities" when none)."""
    keys = [_compact(normalise_header(header)) for header in headers]
    matches = {
        entity: {key for key in keys if key and key in _index(entity).exact} for entity in ENTITIES
    }
    spread: dict[str, int] = {}
    for found in matches.values():
        for key in found:
            spread[key] = spread.get(key, 0) + 1
    # every matched column counts; one that fewer entities know counts more
    scores = {
        entity: sum(1 + 1 / spread[key] for key in found) for entity, found in matches.items()
    }
    best = max(ENTITIES, key=lambda entity: (scores[entity], -ENTITIES.index(entity)))
    return best
