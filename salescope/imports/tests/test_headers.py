"""Suggested column mappings from header names in EN/DE/FR/NL and the exports of common CRMs."""

from __future__ import annotations

import pytest

from salescope.imports.headers import (
    CANONICAL_FIELDS,
    ENTITIES,
    SYNONYMS,
    field_for_header,
    guess_entity,
    normalise_header,
    suggest_mapping,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("E-Mail-Adresse", "e mail adresse"),
        ("  Date de clôture ", "date de cloture"),
        ("Probability (%)", "probability"),
        ("closeDate", "close date"),
        ("FirstName", "first name"),
        ("opportunity_id", "opportunity id"),
        ("Straße", "strasse"),
        ("Date entered “Won”", "date entered won"),
        ("Kontakt\nE-Mail", "kontakt e mail"),
        ("---", ""),
    ],
)
def test_normalise_header(header: str, expected: str) -> None:
    assert normalise_header(header) == expected


def test_synonym_table_uses_only_canonical_fields_and_has_no_conflicts() -> None:
    assert set(SYNONYMS) == set(ENTITIES) == set(CANONICAL_FIELDS)
    for entity, fields in SYNONYMS.items():
        owner: dict[str, str] = {}
        for field, variants in fields.items():
            assert field in CANONICAL_FIELDS[entity], (entity, field)
            for variant in [field, *variants]:
                key = normalise_header(variant).replace(" ", "")
                assert owner.setdefault(key, field) == field, (entity, variant, owner[key], field)


def test_every_canonical_field_maps_its_own_name() -> None:
    for entity, fields in CANONICAL_FIELDS.items():
        assert suggest_mapping(list(fields), entity) == {f: f for f in fields}, entity


OPPORTUNITY_EXPORTS = {
    "maven": (
        ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
         "close_date", "close_value"],
        ["external_id", "owner", "product", "account", "stage", "created_at", "expected_close",
         "amount"],
    ),
    "salesforce": (
        ["Opportunity ID", "Opportunity Name", "Account Name", "Account ID", "Opportunity Owner",
         "Stage", "Amount", "Opportunity Currency", "Probability (%)", "Close Date",
         "Created Date", "Lead Source", "Next Step", "Forecast Category", "Loss Reason"],
        ["external_id", "name", "account", "account_external_id", "owner", "stage", "amount",
         "currency", "probability", "expected_close", "created_at", "source", "next_step",
         "forecast_category", "lost_reason"],
    ),
    "hubspot": (
        ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Deal owner",
         "Create Date", "Pipeline", "Associated Company", "Original Source Type"],
        ["external_id", "name", "stage", "amount", "expected_close", "owner", "created_at",
         "pipeline", "account", "source"],
    ),
    "pipedrive": (
        ["Title", "Value", "Currency", "Status", "Owner", "Organization", "Won time",
         "Lost time", "Lost reason", "Expected close date", "Deal created"],
        ["name", "amount", "currency", "outcome", "owner", "account", "closed_on", None,
         "lost_reason", "expected_close", "created_at"],
    ),
    "odoo": (
        ["Opportunity", "Expected Revenue", "Stage", "Salesperson", "Customer",
         "Expected Closing", "Probability", "Created on", "Lost Reason"],
        ["name", "amount", "stage", "owner", "account", "expected_close", "probability",
         "created_at", "lost_reason"],
    ),
    "german": (
        ["Verkaufschance", "Firma", "Betrag", "Phase", "Abschlussdatum", "Verantwortlicher",
         "Quelle", "Verlustgrund", "Wahrscheinlichkeit", "Erstellt am", "Währung"],
        ["name", "account", "amount", "stage", "expected_close", "owner", "source",
         "lost_reason", "probability", "created_at", "currency"],
    ),
    "german (Unternehmen, Wert)": (
        ["Unternehmen", "Wert", "Nächster Schritt"],
        ["account", "amount", "next_step"],
    ),
    "french": (
        ["Nom", "Société", "Montant", "Étape", "Date de clôture", "Propriétaire", "Origine",
         "Raison de la perte", "Probabilité", "Date de création"],
        ["name", "account", "amount", "stage", "expected_close", "owner", "source",
         "lost_reason", "probability", "created_at"],
    ),
    "dutch": (
        ["Naam", "Bedrijf", "Bedrag", "Fase", "Sluitingsdatum", "Eigenaar", "Bron",
         "Reden verlies", "Kans", "Aangemaakt op"],
        ["name", "account", "amount", "stage", "expected_close", "owner", "source",
         "lost_reason", "probability", "created_at"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("export", list(OPPORTUNITY_EXPORTS))
def test_opportunity_exports(export: str) -> None:
    headers, fields = OPPORTUNITY_EXPORTS[export]
    expected = {h: f for h, f in zip(headers, fields, strict=True) if f is not None}
    assert suggest_mapping(headers, "opportunities") == expected
    assert guess_entity(headers) == "opportunities"


CONTACT_EXPORTS = [
    (["Vorname", "Nachname", "E-Mail", "Telefon", "Mobil", "Firma", "Position"],
     ["first_name", "last_name", "email", "phone", "mobile", "account", "job_title"]),
    (["Prénom", "Nom", "Courriel", "Téléphone", "Société", "Fonction", "Langue"],
     ["first_name", "last_name", "email", "phone", "account", "job_title", "language"]),
    (["Voornaam", "Achternaam", "E-mailadres", "Telefoon", "Bedrijf", "Functie"],
     ["first_name", "last_name", "email", "phone", "account", "job_title"]),
    (["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Contact owner",
      "Associated Company ID", "Create Date"],
     ["external_id", "first_name", "last_name", "email", "phone", "owner",
      "account_external_id", "created_at"]),
    (["firstName", "lastName", "emailAddress", "mobilePhone", "jobTitle"],
     ["first_name", "last_name", "email", "mobile", "job_title"]),
]  # fmt: skip


@pytest.mark.parametrize(("headers", "fields"), CONTACT_EXPORTS)
def test_contact_exports(headers: list[str], fields: list[str]) -> None:
    assert suggest_mapping(headers, "contacts") == dict(zip(headers, fields, strict=True))
    assert guess_entity(headers) == "contacts"


ACCOUNT_EXPORTS = [
    (["account", "sector", "year_established", "revenue", "employees", "office_location",
      "subsidiary_of"],
     {"account": "name", "sector": "industry", "revenue": "annual_revenue",
      "employees": "employees", "office_location": "country", "subsidiary_of": "parent"}),
    (["Firma", "Straße", "PLZ", "Ort", "Land", "Branche", "Mitarbeiter", "Umsatz", "Webseite"],
     {"Firma": "name", "Straße": "street", "PLZ": "postal_code", "Ort": "city",
      "Land": "country", "Branche": "industry", "Mitarbeiter": "employees",
      "Umsatz": "annual_revenue", "Webseite": "website"}),
    (["Société", "Adresse", "Code postal", "Ville", "Pays", "Secteur", "Chiffre d'affaires"],
     {"Société": "name", "Adresse": "street", "Code postal": "postal_code", "Ville": "city",
      "Pays": "country", "Secteur": "industry", "Chiffre d'affaires": "annual_revenue"}),
    (["Bedrijf", "Straat", "Postcode", "Plaats", "Land", "Telefoon", "Omzet"],
     {"Bedrijf": "name", "Straat": "street", "Postcode": "postal_code", "Plaats": "city",
      "Land": "country", "Telefoon": "phone", "Omzet": "annual_revenue"}),
]  # fmt: skip


@pytest.mark.parametrize(("headers", "expected"), ACCOUNT_EXPORTS)
def test_account_exports(headers: list[str], expected: dict[str, str]) -> None:
    assert suggest_mapping(headers, "accounts") == expected
    assert guess_entity(headers) == "accounts"


def test_other_entities_are_guessed() -> None:
    assert guess_entity(["sales_agent", "manager", "regional_office"]) == "users"
    assert guess_entity(["Opportunity ID", "Field", "Old Value", "New Value", "Edit Date",
                         "Changed By"]) == "history"  # fmt: skip
    assert guess_entity(["Subject", "Activity Type", "Due Date", "Done", "Deal ID"]) == "activities"
    assert guess_entity(["Lead ID", "Company", "Lead Status", "Campaign", "Email"]) == "leads"
    assert guess_entity(["nothing", "known"]) == "opportunities"
    assert guess_entity([]) == "opportunities"


def test_token_overlap_maps_longer_headers() -> None:
    mapping = suggest_mapping(
        ["Deal Owner Name", "Opportunity Stage Name", "Expected Close Date (Q)", "Comment"],
        "opportunities",
    )
    assert mapping == {
        "Deal Owner Name": "owner",
        "Opportunity Stage Name": "stage",
        "Expected Close Date (Q)": "expected_close",
    }


def test_generic_words_alone_do_not_make_a_match() -> None:
    # "date" and "name" are shared with many fields but say nothing on their own
    assert suggest_mapping(['Date entered "Won"', "Last Activity Date", "Nickname"],
                           "opportunities") == {}  # fmt: skip


def test_exact_synonyms_win_over_token_overlap_and_no_field_is_used_twice() -> None:
    mapping = suggest_mapping(["Owner Email", "Owner", "Deal Owner"], "opportunities")
    assert mapping == {"Owner": "owner"}
    mapping = suggest_mapping(["Won time", "Lost time"], "opportunities")
    assert mapping == {"Won time": "closed_on"}
    mapping = suggest_mapping(["Name", "Deal Name"], "opportunities")
    assert mapping == {"Name": "name"}


def test_same_header_means_different_fields_per_entity() -> None:
    assert suggest_mapping(["Nom"], "contacts") == {"Nom": "last_name"}
    assert suggest_mapping(["Nom"], "accounts") == {"Nom": "name"}
    assert suggest_mapping(["Firma"], "leads") == {"Firma": "company"}
    assert suggest_mapping(["Status"], "opportunities") == {"Status": "outcome"}
    assert suggest_mapping(["Status"], "leads") == {"Status": "status"}
    assert suggest_mapping(["Title"], "contacts") == {"Title": "job_title"}


def test_field_for_header_is_exact_only() -> None:
    assert field_for_header("E-MAIL", "contacts") == "email"
    assert field_for_header("Deal Owner Name", "opportunities") is None


def test_unknown_entity() -> None:
    with pytest.raises(ValueError, match="Unknown entity"):
        suggest_mapping(["a"], "orders")
    with pytest.raises(ValueError, match="Unknown entity"):
        field_for_header("a", "orders")


def test_blank_and_unknown_headers_are_left_out() -> None:
    assert suggest_mapping(["", "  ", "Lieblingsfarbe"], "contacts") == {}


def test_salesforce_api_name_exports() -> None:
    headers = ["Id", "Name", "AccountId", "StageName", "Amount", "CurrencyIsoCode",
               "CloseDate", "CreatedDate", "OwnerId", "Owner.Name", "IsWon", "IsClosed",
               "LeadSource"]  # fmt: skip
    assert suggest_mapping(headers, "opportunities") == {
        "Id": "external_id",
        "Name": "name",
        "AccountId": "account_external_id",
        "StageName": "stage",
        "Amount": "amount",
        "CurrencyIsoCode": "currency",
        "CloseDate": "expected_close",
        "CreatedDate": "created_at",
        "Owner.Name": "owner",
        "LeadSource": "source",
    }
    history = ["Id", "OpportunityId", "StageName", "Amount", "Probability", "CloseDate",
               "CreatedById", "CreatedDate"]  # fmt: skip
    assert guess_entity(history) == "history"
    assert suggest_mapping(history, "history") == {
        "OpportunityId": "opportunity_external_id",
        "StageName": "stage",
        "Amount": "amount",
        "Probability": "probability",
        "CloseDate": "expected_close",
        "CreatedById": "actor",
        "CreatedDate": "occurred_at",
    }
