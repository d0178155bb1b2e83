"""Admin screens for custom fields: list, create, edit, deactivate; admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from salescope.customfields.models import CustomFieldDefinition
from salescope.customfields.services import define_field

pytestmark = pytest.mark.django_db

LIST = reverse("customfields:list")


@pytest.fixture
def admin_client(org_setup: Any, client: Client) -> Client:
    client.force_login(org_setup.admin)
    return client


def create_url(target: str) -> str:
    return reverse("customfields:create", args=[target])


def post_field(client: Client, target: str, **data: Any) -> Any:
    payload = {"label": "", "key": "", "field_type": "text", "choices": "", "help_text": "",
               "order": "0", "required_from_stage": ""} | data  # fmt: skip
    return client.post(create_url(target), payload)


def test_admin_creates_a_text_field_mandatory_on_create(admin_client: Client) -> None:
    response = post_field(
        admin_client, "account", label="VAT id", key="vat_id", required_on_create="on",
        help_text="As printed on invoices", order="3",
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?target=account"
    field = CustomFieldDefinition.objects.get()
    assert (field.target, field.key, field.label, field.field_type) == (
        "account", "vat_id", "VAT id", "text"
    )  # fmt: skip
    assert field.required_on_create and field.order == 3
    assert field.help_text == "As printed on invoices"
    page = admin_client.get(response["Location"])
    assert "Field “VAT id” added." in page.content.decode()
    assert "vat_id" in page.content.decode()


def test_key_is_suggested_from_the_label_when_left_empty(admin_client: Client) -> None:
    post_field(admin_client, "contact", label="Preferred language?")
    assert CustomFieldDefinition.objects.get().key == "preferred_language"


def test_admin_creates_a_boolean_mandatory_from_proposal(
    admin_client: Client, org_setup: Any
) -> None:
    proposal = org_setup.stages["Proposal"]
    form = admin_client.get(create_url("opportunity")).content.decode()
    assert '<optgroup label="Standard">' in form and '<optgroup label="Inbound">' in form
    assert ">Won<" not in form and ">Lost<" not in form  # open stages only
    response = post_field(
        admin_client, "opportunity", label="Budget confirmed", field_type="boolean",
        required_from_stage=str(proposal.pk),
    )  # fmt: skip
    assert response.status_code == 302
    field = CustomFieldDefinition.objects.get()
    assert field.key == "budget_confirmed" and field.required_from_stage == proposal
    page = admin_client.get(response["Location"]).content.decode()
    assert "Budget confirmed" in page and "Proposal" in page


def test_choice_field_with_one_choice_per_line(admin_client: Client) -> None:
    post_field(
        admin_client, "account", label="Segment", field_type="multi_choice",
        choices="SMB\r\n  Mid-market \r\n\r\nEnterprise\r\nSMB",
    )  # fmt: skip
    assert CustomFieldDefinition.objects.get().choices == ["SMB", "Mid-market", "Enterprise"]


@pytest.mark.parametrize(
    ("target", "data", "field", "message"),
    [
        ("account", {"label": "VAT", "key": "vat"}, "key", "already exists"),
        ("account", {"label": "X", "key": "Bad Key"}, "key", "lowercase letters"),
        ("account", {"label": "Size", "field_type": "choice"}, "choices", "at least one choice"),
        ("account", {"label": "Gate", "required_from_stage": "STAGE"}, "required_from_stage",
         "Only opportunity fields"),
        ("account", {"label": ""}, "label", "This field is required"),
        ("opportunity", {"label": "X", "required_from_stage": "999999"}, "required_from_stage",
         "valid choice"),
    ],
)  # fmt: skip
def test_bad_input_shows_the_error_on_the_field_and_writes_nothing(
    admin_client: Client, org_setup: Any, target: str, data: dict[str, str], field: str,
    message: str,
) -> None:  # fmt: skip
    define_field(target="account", key="vat", label="VAT", field_type="text")
    if data.get("required_from_stage") == "STAGE":
        data = data | {"required_from_stage": str(org_setup.stages["Proposal"].pk)}
    response = post_field(admin_client, target, **data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    html = response.content.decode()
    block = html[html.index(f'data-field="{field}"') :]
    assert message in block[: block.index("</div>")]  # shown next to that field
    assert CustomFieldDefinition.objects.count() == 1


def test_edit_field(admin_client: Client, org_setup: Any) -> None:
    field = define_field(
        target="opportunity", key="tier", label="Tier", field_type="choice", choices=["A"]
    )
    url = reverse("customfields:edit", args=[field.pk])
    page = admin_client.get(url).content.decode()
    assert 'value="Tier"' in page and "<code>tier</code>" in page and 'name="key"' not in page
    response = admin_client.post(
        url,
        {
            "label": "Customer tier", "choices": "A\nB", "required_on_create": "on",
            "required_from_stage": str(org_setup.stages["Negotiation"].pk), "help_text": "",
            "order": "2", "key": "hacked", "field_type": "text",
        },
    )  # fmt: skip
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.choices, field.required_on_create, field.order) == (
        "Customer tier", ["A", "B"], True, 2
    )  # fmt: skip
    assert field.required_from_stage == org_setup.stages["Negotiation"]
    assert (field.key, field.field_type) == ("tier", "choice")  # fixed once created

    bad = admin_client.post(url, {"label": "Customer tier", "choices": "", "order": "2"})
    assert bad.status_code == 400 and "at least one choice" in bad.content.decode()
    field.refresh_from_db()
    assert field.choices == ["A", "B"]


def test_deactivate_and_activate(admin_client: Client) -> None:
    field = define_field(target="contact", key="twitter", label="Twitter", field_type="text")
    assert admin_client.get(reverse("customfields:deactivate", args=[field.pk])).status_code == 405
    response = admin_client.post(reverse("customfields:deactivate", args=[field.pk]))
    assert response.status_code == 302
    field.refresh_from_db()
    assert not field.active
    assert CustomFieldDefinition.objects.filter(pk=field.pk).exists()  # never deleted
    page = admin_client.get(response["Location"]).content.decode()
    assert "Inactive" in page and "values kept in records" in page
    admin_client.post(reverse("customfields:activate", args=[field.pk]))
    field.refresh_from_db()
    assert field.active


@pytest.mark.parametrize("role", ["rep", "manager", "marketing", "readonly"])
def test_non_admins_get_403(org_setup: Any, client: Client, role: str) -> None:
    field = define_field(target="account", key="vat", label="VAT", field_type="text")
    client.force_login(getattr(org_setup, role))
    urls = [LIST, create_url("account"), reverse("customfields:edit", args=[field.pk])]
    for url in urls:
        assert client.get(url).status_code == 403
    assert (
        client.post(create_url("account"), {"label": "X", "field_type": "text"}).status_code == 403
    )
    assert client.post(reverse("customfields:deactivate", args=[field.pk])).status_code == 403
    field.refresh_from_db()
    assert field.active and CustomFieldDefinition.objects.count() == 1


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_target_is_404(admin_client: Client) -> None:
    assert admin_client.get(f"{LIST}?target=invoice").status_code == 404
    assert admin_client.get(create_url("invoice")).status_code == 404


def test_list_tabs_and_query_count(
    admin_client: Client, org_setup: Any, django_assert_max_num_queries: Any
) -> None:
    def add(n: int) -> None:
        start = CustomFieldDefinition.objects.count()
        for i in range(start, start + n):
            define_field(
                target="opportunity", key=f"f{i}", label=f"Field {i}", field_type="text",
                required_from_stage=org_setup.stages["Proposal"],
            )  # fmt: skip

    add(2)
    url = f"{LIST}?target=opportunity"
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url)
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(url).content.decode()
    assert page.count('data-key="f') == 22
    assert 'aria-current="page" class="current">Opportunity <span class="cf-count">22' in page
    account_tab = admin_client.get(LIST).content.decode()
    assert "No account fields yet." in account_tab


def test_navigation_shows_the_screen_to_admins_only(org_setup: Any, client: Client) -> None:
    client.force_login(org_setup.admin)
    assert f'href="{LIST}"' in client.get(LIST).content.decode()
    client.force_login(org_setup.rep)
    assert f'href="{LIST}"' not in client.get(reverse("home")).content.decode()
