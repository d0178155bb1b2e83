"""Company-name normalisation and domain extraction (the keys of duplicate detection, D6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salescope.accounts.services import domain_from, normalize_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Müller GmbH & Co. KG", "muller"),
        ("MULLER", "muller"),
        ("Müller  GmbH", "muller"),
        ("Siemens AG", "siemens"),
        ("Acme B.V.", "acme"),
        ("Acme B. V.", "acme"),
        ("Acme NV", "acme"),
        ("Philips N.V.", "philips"),
        ("Société Générale S.A.", "societe generale"),
        ("Dupont SAS", "dupont"),
        ("SARL Dupont", "dupont"),
        ("Dupont S.à r.l.", "dupont"),
        ("Widgets Ltd.", "widgets"),
        ("Widgets Limited", "widgets"),
        ("Widgets, Inc.", "widgets"),
        ("Widgets LLC", "widgets"),
        ("  O'Neil   & Sons  Ltd ", "oneil sons"),
        ("Straße Bau AG", "strasse bau"),
        ("Hewlett-Packard", "hewlett packard"),
        ("Çelik A.Ş.", "celik"),
        ("Zürich Versicherung", "zurich versicherung"),
        ("As Good As New Ltd", "as good as new"),
        ("GmbH", "gmbh"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_name_examples(name, expected):
    assert normalize_name(name) == expected


def test_spelling_variants_of_one_company_agree():
    variants = [
        "Müller GmbH",
        "MÜLLER GMBH",
        "Mueller".replace("ue", "ü") + " GmbH & Co. KG",
        "müller",
        " Müller, GmbH ",
    ]
    assert {normalize_name(v) for v in variants} == {"muller"}


@given(st.text(max_size=60))
def test_normalize_name_is_idempotent(name):
    once = normalize_name(name)
    assert normalize_name(once) == once


@given(st.text(max_size=60))
def test_normalized_names_are_lowercase_words_separated_by_single_spaces(name):
    result = normalize_name(name)
    assert result == result.strip()
    assert "  " not in result
    assert result == result.casefold()
    assert all(ch.isalnum() or ch == " " for ch in result)


@given(
    st.text(alphabet=st.characters(categories=["Ll", "Lu", "Nd", "Zs"]), max_size=30),
    st.sampled_from(["GmbH", "AG", "SA", "SAS", "BV", "B.V.", "NV", "Ltd", "LLC", "Inc.", "SARL",
                     "KG", "GmbH & Co. KG", "S.à r.l.", "Limited"]),
)  # fmt: skip
def test_a_legal_form_at_the_end_never_matters(stem, form):
    if normalize_name(stem):
        assert normalize_name(f"{stem} {form}") == normalize_name(stem)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Example.com/contact?x=1", "example.com"),
        ("http://shop.example.co.uk:8080", "shop.example.co.uk"),
        ("example.com", "example.com"),
        ("www.acme.de/impressum", "acme.de"),
        ("Jane.Doe@Example.COM", "example.com"),
        ("mailto:sales@acme.fr", "acme.fr"),
        ("  https://münchen.de  ", "münchen.de"),
        ("", ""),
        (None, ""),
        ("http://", ""),
    ],
)
def test_domain_from(value, expected):
    assert domain_from(value) == expected
