"""The demo company and the scalable seed generator.

``generate()`` builds Lumen Industries GmbH, a European manufacturer of industrial LED
lighting: three sales teams (Germany, Benelux, France), twelve reps with different styles, three
pipelines (standard B2B, the industrial lighting project pipeline of the field articles, short
inbound requests) and two years of history ending on ``end``: accounts with contacts,
opportunities with realistic stage paths, slips, amount changes, hand-overs, losses with
reasons and reopenings, activities with meeting minutes, and comments.

Reference data goes through the services. Opportunities are simulated in memory with the pure
transitions of :mod:`salescope.pipeline.domain` (the same rules and the same event format as the
services) and bulk-inserted chunk by chunk (one transaction each), so the same code seeds 12,000
opportunities for the demo and 1,000,000 for benchmarks in constant memory. The database must
be empty: the generator allocates the pks of the rows it inserts in bulk and moves the
sequences past them at the end (as ``loaddata`` does).

Everything is drawn from one ``random.Random(seed)``: the same seed and the same end date give
the same database content (also the history's action ids and the demo password's hash).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
import itertools
import math
import random
import unicodedata
import uuid
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone

from salescope.accounts.models import (
    Account,
    AccountContact,
    AccountStatus,
    AccountType,
    Contact,
    ContactRole,
    Industry,
    Region,
    Tag,
    TagCategory,
    Tier,
)
from salescope.activities.models import Activity, ActivityType, Agreement, Comment
from salescope.core import clock
from salescope.core.bulk import BulkWriter, Rows
from salescope.customfields.models import FieldType, Target
from salescope.customfields.services import clean_custom_values, define_field, definitions
from salescope.org.models import Role, Team, User
from salescope.org.services import (
    create_team,
    create_user,
    ensure_company_settings,
    set_exchange_rate,
    update_company_settings,
)
from salescope.pipeline import domain
from salescope.pipeline.models import (
    EventOrigin,
    LostReason,
    Opportunity,
    OpportunityEvent,
    Outcome,
    ProductLine,
    Source,
    SourceChannel,
    Stage,
    StageKind,
)
from salescope.pipeline.services import create_pipeline

__all__ = ["COMPANY_NAME", "DEMO_LOGINS", "DEMO_PASSWORD", "GeneratorError", "generate"]

COMPANY_NAME = "Lumen Industries GmbH"
#: The one password of every demo user (printed by ``salescope demo``).
DEMO_PASSWORD = "salescope-demo"

#: Logins printed by ``salescope demo``: username, name, role, what to look at.
DEMO_LOGINS: list[dict[str, str]] = [
    {
        "username": "admin",
        "name": "Heike Brandt",
        "role": "Administrator",
        "note": "users, pipelines, fields",
    },
    {
        "username": "manager",
        "name": "Katrin Vogel",
        "role": "Sales manager",
        "note": "team Germany",
    },
    {
        "username": "rep",
        "name": "Jonas Weber",
        "role": "Sales rep",
        "note": "steady, regular monthly wins",
    },
    {
        "username": "rep2",
        "name": "Lea Hoffmann",
        "role": "Sales rep",
        "note": "star, big and irregular deals",
    },
    {
        "username": "m.schulz",
        "name": "Markus Schulz",
        "role": "Sales rep",
        "note": "many meetings, low win rate",
    },
    {
        "username": "n.yilmaz",
        "name": "Nina Yilmaz",
        "role": "Sales rep",
        "note": "new hire (4 months)",
    },
    {
        "username": "p.devries",
        "name": "Pieter de Vries",
        "role": "Sales manager",
        "note": "team Benelux",
    },
    {
        "username": "c.laurent",
        "name": "Camille Laurent",
        "role": "Sales manager",
        "note": "team France",
    },
    {
        "username": "marketing",
        "name": "Sophie Klein",
        "role": "Marketing",
        "note": "inbound requests",
    },
    {
        "username": "viewer",
        "name": "Martin Albrecht",
        "role": "Read-only",
        "note": "sees everything, changes nothing",
    },
]
for _login in DEMO_LOGINS:
    _login["password"] = DEMO_PASSWORD

ProgressFn = Callable[[str, int, int], None]
MINUTES_PER_DAY = 1440
HISTORY_DAYS = 730
CHUNK_SIZE = 5000
ACCOUNT_CHUNK = 5000


class GeneratorError(Exception):
    """The generator cannot run (for example: the database is not empty)."""


# --- the world ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionSpec:
    name: str
    country: str
    team: int  # index into TEAMS
    lang: str
    cities: tuple[tuple[str, str], ...]  # (city, postal code prefix)
    weight: float


TEAMS = ("Germany", "Benelux", "France")

REGIONS: tuple[RegionSpec, ...] = (
    RegionSpec(
        "Germany North",
        "DE",
        0,
        "de",
        (
            ("Hamburg", "20"),
            ("Bremen", "28"),
            ("Hannover", "30"),
            ("Kiel", "24"),
            ("Lübeck", "23"),
            ("Osnabrück", "49"),
        ),
        0.11,
    ),
    RegionSpec(
        "Germany West",
        "DE",
        0,
        "de",
        (
            ("Köln", "50"),
            ("Düsseldorf", "40"),
            ("Dortmund", "44"),
            ("Essen", "45"),
            ("Duisburg", "47"),
            ("Münster", "48"),
            ("Bielefeld", "33"),
        ),
        0.15,
    ),
    RegionSpec(
        "Germany South",
        "DE",
        0,
        "de",
        (
            ("München", "80"),
            ("Stuttgart", "70"),
            ("Nürnberg", "90"),
            ("Augsburg", "86"),
            ("Regensburg", "93"),
            ("Ulm", "89"),
            ("Freiburg", "79"),
        ),
        0.15,
    ),
    RegionSpec(
        "Germany East",
        "DE",
        0,
        "de",
        (
            ("Berlin", "10"),
            ("Leipzig", "04"),
            ("Dresden", "01"),
            ("Magdeburg", "39"),
            ("Erfurt", "99"),
            ("Chemnitz", "09"),
        ),
        0.09,
    ),
    RegionSpec(
        "Netherlands",
        "NL",
        1,
        "nl",
        (
            ("Rotterdam", "30"),
            ("Amsterdam", "10"),
            ("Eindhoven", "56"),
            ("Utrecht", "35"),
            ("Tilburg", "50"),
            ("Venlo", "59"),
            ("Groningen", "97"),
        ),
        0.15,
    ),
    RegionSpec(
        "Belgium",
        "BE",
        1,
        "nl",
        (
            ("Antwerpen", "20"),
            ("Gent", "90"),
            ("Brussel", "10"),
            ("Liège", "40"),
            ("Charleroi", "60"),
            ("Hasselt", "35"),
        ),
        0.10,
    ),
    RegionSpec(
        "Luxembourg", "LU", 1, "fr", (("Luxembourg", "L-1"), ("Esch-sur-Alzette", "L-4")), 0.03
    ),
    RegionSpec(
        "Île-de-France",
        "FR",
        2,
        "fr",
        (("Paris", "75"), ("Saint-Denis", "93"), ("Nanterre", "92"), ("Créteil", "94")),
        0.07,
    ),
    RegionSpec(
        "Hauts-de-France",
        "FR",
        2,
        "fr",
        (("Lille", "59"), ("Amiens", "80"), ("Roubaix", "59"), ("Dunkerque", "59")),
        0.05,
    ),
    RegionSpec(
        "Grand Est",
        "FR",
        2,
        "fr",
        (
            ("Strasbourg", "67"),
            ("Metz", "57"),
            ("Nancy", "54"),
            ("Reims", "51"),
            ("Mulhouse", "68"),
        ),
        0.05,
    ),
    RegionSpec(
        "Auvergne-Rhône-Alpes",
        "FR",
        2,
        "fr",
        (("Lyon", "69"), ("Grenoble", "38"), ("Saint-Étienne", "42"), ("Clermont-Ferrand", "63")),
        0.05,
    ),
)

SURNAMES = {
    "de": (
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Schäfer",
        "Koch",
        "Bauer",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Schwarz",
        "Zimmermann",
        "Braun",
        "Krüger",
        "Hofmann",
        "Hartmann",
        "Lange",
        "Schmitt",
        "Werner",
        "Schmitz",
        "Krause",
        "Meier",
        "Lehmann",
        "Köhler",
        "Herrmann",
        "König",
        "Walter",
        "Huber",
        "Kaiser",
        "Fuchs",
        "Peters",
        "Lang",
        "Scholz",
        "Möller",
        "Weiß",
        "Jung",
        "Hahn",
        "Vogt",
        "Friedrich",
        "Keller",
        "Günther",
        "Frank",
        "Berger",
        "Winkler",
        "Roth",
        "Beck",
    ),
    "nl": (
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "van Dijk",
        "Bakker",
        "Janssen",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van Leeuwen",
        "Dekker",
        "Brouwer",
        "Peeters",
        "Maes",
        "Jacobs",
        "Mertens",
        "Willems",
        "Claes",
        "Goossens",
        "Wouters",
        "de Wit",
        "Dijkstra",
        "Smeets",
        "van der Linden",
        "Kok",
        "Verhoeven",
        "Vermeulen",
        "Lambrechts",
    ),
    "fr": (
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefebvre",
        "Michel",
        "Garcia",
        "David",
        "Bertrand",
        "Roux",
        "Vincent",
        "Fournier",
        "Morel",
        "Girard",
        "André",
        "Lefèvre",
        "Mercier",
        "Dupont",
        "Lambert",
        "Bonnet",
        "François",
        "Martinez",
        "Legrand",
        "Garnier",
        "Faure",
        "Rousseau",
        "Blanc",
        "Guerin",
        "Muller",
        "Henry",
    ),
}
FIRST_NAMES = {
    "de": (
        "Anna",
        "Lukas",
        "Julia",
        "Felix",
        "Laura",
        "Jan",
        "Sarah",
        "Tim",
        "Lisa",
        "Paul",
        "Katharina",
        "Michael",
        "Stefan",
        "Andrea",
        "Thomas",
        "Sabine",
        "Markus",
        "Claudia",
        "Daniel",
        "Nicole",
        "Christian",
        "Petra",
        "Frank",
        "Martina",
        "Jens",
        "Birgit",
        "Matthias",
        "Kerstin",
        "Tobias",
        "Susanne",
        "Uwe",
        "Melanie",
        "Oliver",
        "Sandra",
        "Ralf",
        "Jana",
    ),
    "nl": (
        "Daan",
        "Sem",
        "Emma",
        "Julia",
        "Lieke",
        "Bram",
        "Thijs",
        "Sanne",
        "Femke",
        "Ruben",
        "Joost",
        "Anouk",
        "Pieter",
        "Maarten",
        "Eline",
        "Wouter",
        "Koen",
        "Sofie",
        "Nathalie",
        "Jeroen",
        "Inge",
        "Marloes",
        "Stijn",
        "Tom",
        "Hanne",
        "Bart",
    ),
    "fr": (
        "Camille",
        "Julien",
        "Marie",
        "Nicolas",
        "Sophie",
        "Thomas",
        "Céline",
        "Pierre",
        "Isabelle",
        "Antoine",
        "Claire",
        "Mathieu",
        "Aurélie",
        "Romain",
        "Élodie",
        "Guillaume",
        "Nathalie",
        "Sébastien",
        "Chloé",
        "Hugo",
        "Laure",
        "Olivier",
        "Sandrine",
        "Vincent",
        "Manon",
        "Luc",
    ),
}
BRANCHES = {
    "de": (
        "Logistik",
        "Lagertechnik",
        "Metallbau",
        "Kunststofftechnik",
        "Maschinenbau",
        "Automotive",
        "Lebensmittel",
        "Getränke",
        "Baustoffe",
        "Holzwerke",
        "Spedition",
        "Verpackung",
        "Elektrotechnik",
        "Papierfabrik",
        "Stahlhandel",
        "Gießerei",
        "Fördertechnik",
        "Agrar",
        "Sportstätten",
        "Bau",
        "Fahrzeugbau",
        "Feinchemie",
        "Druckerei",
        "Möbelwerke",
    ),
    "nl": (
        "Logistiek",
        "Transport",
        "Bouw",
        "Metaal",
        "Installatietechniek",
        "Voedingsmiddelen",
        "Distributie",
        "Kunststoffen",
        "Techniek",
        "Agri",
        "Verpakkingen",
        "Staal",
        "Tuinbouw",
        "Koeltechniek",
        "Machinebouw",
        "Sport",
    ),
    "fr": (
        "Logistique",
        "Transports",
        "Métallurgie",
        "Bâtiment",
        "Industries",
        "Agroalimentaire",
        "Distribution",
        "Plasturgie",
        "Emballages",
        "Équipements",
        "Menuiserie",
        "Mécanique",
        "Entrepôts",
        "Froid",
        "Chimie",
    ),
}
LEGAL_FORMS = {
    "DE": ("GmbH", "GmbH", "GmbH", "GmbH & Co. KG", "GmbH & Co. KG", "AG", "KG", "SE"),
    "NL": ("B.V.", "B.V.", "B.V.", "N.V."),
    "BE": ("BV", "BV", "NV", "SRL"),
    "LU": ("S.A.", "S.à r.l."),
    "FR": ("SAS", "SAS", "SA", "SARL"),
}
PUBLIC_BODY = {
    "DE": "Stadtwerke {city}",
    "NL": "Gemeente {city}",
    "BE": "Stad {city}",
    "LU": "Ville de {city}",
    "FR": "Ville de {city}",
}
STREETS = {
    "de": (
        "Industriestraße",
        "Hafenstraße",
        "Gewerbering",
        "Am Güterbahnhof",
        "Daimlerstraße",
        "Siemensstraße",
        "Robert-Bosch-Straße",
        "Lindenallee",
        "Hauptstraße",
        "Im Gewerbepark",
    ),
    "nl": (
        "Industrieweg",
        "Havenstraat",
        "Nijverheidsweg",
        "Ambachtsweg",
        "Stationsplein",
        "Kanaaldijk",
        "Handelsweg",
    ),
    "fr": (
        "rue de l'Industrie",
        "avenue de la Gare",
        "zone industrielle Nord",
        "rue du Port",
        "boulevard Pasteur",
        "rue des Artisans",
        "chemin des Entrepôts",
    ),
}
PHONE_PREFIX = {"DE": "+49", "NL": "+31", "BE": "+32", "LU": "+352", "FR": "+33"}
TLD = {"DE": "de", "NL": "nl", "BE": "be", "LU": "lu", "FR": "fr"}

JOB_TITLES = (  # (title, role names, weight)
    ("Managing Director", ("Decision maker",), 3),
    ("Plant Manager", ("Decision maker", "User"), 3),
    ("Technical Director", ("Decision maker", "Technical contact"), 2),
    ("Head of Purchasing", ("Decision maker",), 3),
    ("Facility Manager", ("Technical contact", "User"), 4),
    ("Electrical Engineer", ("Technical contact",), 3),
    ("Energy Manager", ("Technical contact",), 2),
    ("Buyer", ("User",), 3),
    ("Accounts Payable", ("Billing contact",), 2),
    ("Warehouse Manager", ("User",), 2),
)

COMPETITORS = (
    "Lichtwerk Industrietechnik",
    "Brightline Lighting",
    "Nordlicht LED",
    "Lumosa Group",
    "Éclairage Pro",
    "Helios Industrial",
)


@dataclass(frozen=True)
class StageSpec:
    name: str
    probability: int
    rotting_days: int
    function: str
    mean_days: float
    p_lost: float  # open stages: chance to be lost here; final stage: 1 - win chance
    p_skip: float = 0.0  # chance that a forward move jumps over this stage
    p_back: float = 0.0  # chance to move back one stage from here (once per deal)
    checklist: tuple[str, ...] = ()
    activities: tuple[tuple[tuple[str, ...], float, str], ...] = ()  # (types, chance, when)


@dataclass(frozen=True)
class PipelineSpec:
    key: str
    name: str
    description: str
    stages: tuple[StageSpec, ...]
    amount_median: float
    amount_sigma: float
    offer_stage: int  # the stage where the amount becomes a quote
    won_activity: tuple[str, float]
    opportunity_titles: tuple[str, ...]
    products: tuple[int, ...]  # indices into PRODUCT_LINES
    sources: tuple[tuple[int, float], ...]  # (index into SOURCES, weight)


QUALIFICATION = [
    "Organisation known",
    "Decision makers identified",
    "Pain points",
    "Budget",
    "Timing",
]

PIPELINES: tuple[PipelineSpec, ...] = (
    PipelineSpec(
        key="standard",
        name="Standard B2B",
        description="Components, service contracts and light "
        "management for existing and new business customers.",
        stages=(
            StageSpec(
                "Qualification",
                10,
                14,
                "prospecting",
                10,
                0.35,
                checklist=tuple(QUALIFICATION),
                activities=((("call",), 1.0, "any"), (("email",), 0.5, "any")),
            ),
            StageSpec(
                "Needs analysis",
                25,
                21,
                "meeting",
                14,
                0.22,
                p_skip=0.1,
                activities=(
                    (("meeting", "video_call", "customer_visit"), 0.9, "any"),
                    (("demo",), 0.25, "any"),
                    (("email",), 0.4, "any"),
                ),
            ),
            StageSpec(
                "Proposal",
                50,
                21,
                "proposal",
                16,
                0.25,
                p_back=0.07,
                activities=(
                    (("task",), 0.4, "any"),
                    (("offer_sent",), 1.0, "exit"),
                    (("call",), 0.5, "any"),
                ),
            ),
            StageSpec(
                "Negotiation",
                75,
                14,
                "closing",
                14,
                0.32,
                activities=(
                    (("meeting", "video_call"), 0.6, "any"),
                    (("call",), 0.7, "any"),
                    (("email",), 0.4, "any"),
                ),
            ),
        ),
        amount_median=14000,
        amount_sigma=0.75,
        offer_stage=2,
        won_activity=("contract_signed", 0.7),
        opportunity_titles=(
            "Maintenance contract {year}",
            "Light management system",
            "Emergency lighting upgrade",
            "Spare parts framework agreement",
            "Office lighting refurbishment",
            "Sensor retrofit",
        ),
        products=(1, 4, 5, 6, 7),
        sources=((1, 2), (2, 1), (3, 3), (4, 2), (5, 2), (6, 2), (7, 3)),
    ),
    PipelineSpec(
        key="lighting",
        name="Industrial lighting projects",
        description="Industrial and outdoor "
        "lighting projects: from the first presentation through the lighting calculation, offer, "
        "trial installation and tender to the supply contract.",
        stages=(
            StageSpec(
                "Presentation",
                10,
                21,
                "meeting",
                14,
                0.28,
                activities=((("customer_visit", "meeting"), 1.0, "any"), (("call",), 0.6, "any")),
            ),
            StageSpec(
                "Data for the lighting calculation",
                20,
                30,
                "meeting",
                21,
                0.18,
                activities=(
                    (("email",), 0.7, "any"),
                    (("call",), 0.5, "any"),
                    (("lighting_data",), 1.0, "exit"),
                ),
            ),
            StageSpec(
                "Technical-commercial offer",
                35,
                21,
                "proposal",
                18,
                0.12,
                activities=((("task",), 0.5, "any"), (("offer_sent",), 1.0, "exit")),
            ),
            StageSpec(
                "Presentation and objections",
                50,
                21,
                "closing",
                16,
                0.2,
                p_back=0.12,
                activities=((("meeting", "video_call"), 1.0, "any"), (("call",), 0.5, "any")),
            ),
            StageSpec(
                "Equipment on trial",
                65,
                45,
                "closing",
                30,
                0.15,
                p_skip=0.4,
                activities=(
                    (("equipment_trial",), 1.0, "entry"),
                    (("customer_visit",), 0.5, "any"),
                    (("call",), 0.5, "any"),
                ),
            ),
            StageSpec(
                "Tender",
                75,
                60,
                "closing",
                35,
                0.35,
                p_skip=0.35,
                activities=((("task",), 0.8, "any"), (("email",), 0.5, "any")),
            ),
            StageSpec(
                "Contract",
                90,
                21,
                "closing",
                12,
                0.1,
                activities=((("call",), 0.6, "any"), (("meeting",), 0.4, "any")),
            ),
        ),
        amount_median=38000,
        amount_sigma=0.9,
        offer_stage=2,
        won_activity=("contract_signed", 1.0),
        opportunity_titles=(
            "{project} LED retrofit",
            "{project} lighting",
            "New {project} lighting",
            "{project} lighting, phase {phase}",
        ),
        products=(0, 2, 3, 4, 5, 6),
        sources=((0, 1), (1, 2), (3, 4), (4, 2), (5, 3), (6, 3), (7, 3), (8, 2)),
    ),
    PipelineSpec(
        key="inbound",
        name="Inbound requests",
        description="Requests from the website and campaigns: "
        "qualify quickly, send a standard offer.",
        stages=(
            StageSpec(
                "New request",
                20,
                3,
                "appointment_setting",
                3,
                0.35,
                activities=((("call",), 1.0, "any"), (("email",), 0.6, "any")),
            ),
            StageSpec(
                "Qualified",
                40,
                7,
                "",
                6,
                0.2,
                p_skip=0.2,
                activities=((("video_call", "call"), 0.8, "any"),),
            ),
            StageSpec(
                "Offer sent",
                60,
                14,
                "proposal",
                10,
                0.45,
                activities=(
                    (("offer_sent",), 1.0, "entry"),
                    (("call",), 0.6, "any"),
                    (("email",), 0.4, "any"),
                ),
            ),
        ),
        amount_median=3500,
        amount_sigma=0.6,
        offer_stage=2,
        won_activity=("email", 0.5),
        opportunity_titles=("Web request: {product}", "Request: {product}", "Quote {product}"),
        products=(0, 1, 2, 4),
        sources=((0, 5), (1, 2), (2, 2)),
    ),
)

PRODUCT_LINES = (  # name, code, list price
    ("LED high-bay luminaires", "HB", "289.00"),
    ("LED panels and office lighting", "PNL", "119.00"),
    ("Floodlights", "FL", "459.00"),
    ("Street and area lighting", "STR", "649.00"),
    ("Emergency lighting", "EM", "149.00"),
    ("Light management systems", "LMS", "2400.00"),
    ("Installation and commissioning", "SRV", "850.00"),
    ("Maintenance contracts", "MNT", "3600.00"),
)
SOURCES = (  # name, channel
    ("Website form", SourceChannel.INBOUND),
    ("Trade fair LightBuild", SourceChannel.MARKETING),
    ("Newsletter campaign", SourceChannel.MARKETING),
    ("Cold calling", SourceChannel.OWN_PROSPECTING),
    ("LinkedIn outreach", SourceChannel.OWN_PROSPECTING),
    ("Customer referral", SourceChannel.REFERRAL),
    ("Installer partner", SourceChannel.PARTNER),
    ("Existing customer", SourceChannel.EXISTING_CUSTOMER),
    ("Tender portal", SourceChannel.OTHER),
)
LOST_REASONS = ("Price", "Competitor", "No budget", "Timing", "No decision", "Product fit")
LOST_WEIGHTS_EARLY = (10, 15, 25, 20, 20, 10)
LOST_WEIGHTS_LATE = (35, 35, 5, 10, 12, 3)
LOST_NOTES = (
    "Went with {competitor}.",
    "{competitor} was about 15% cheaper per luminaire.",
    "Project postponed to next year.",
    "Budget frozen by the group.",
    "No answer since the offer.",
    "Needs a DALI solution we do not offer.",
    "Decided to keep the old installation for now.",
)

# code, name, colour, milestone, has minutes, duration range (minutes)
ACTIVITY_TYPES = (
    ("task", "Task", "#8c8c8c", False, False, (15, 60)),
    ("call", "Call", "#4e79a7", False, False, (5, 25)),
    ("email", "Email", "#76b7b2", False, False, (5, 15)),
    ("meeting", "Meeting", "#f28e2b", True, True, (45, 120)),
    ("video_call", "Video call", "#59a14f", False, True, (30, 60)),
    ("demo", "Demo", "#edc948", False, True, (60, 90)),
    ("customer_visit", "Customer visit", "#e15759", True, True, (90, 240)),
    ("offer_sent", "Offer sent", "#b07aa1", True, False, (60, 180)),
    ("lighting_data", "Lighting calculation data received", "#9c755f", True, False, (15, 45)),
    ("equipment_trial", "Equipment on trial", "#ff9da7", True, False, (60, 180)),
    ("contract_signed", "Contract signed", "#2f7d32", True, False, (15, 60)),
)
SUBJECTS = {
    "task": (
        "Prepare tender documents",
        "Send DIALux lighting calculation",
        "Prepare offer",
        "Check trial results",
        "Update price list for customer",
        "Collect certificates (ENEC, CE)",
    ),
    "call": (
        "Follow-up call",
        "Qualification call",
        "Call about the offer",
        "Clarify requirements",
        "Call back about delivery dates",
        "Call purchasing",
    ),
    "email": (
        "Sent product sheet",
        "Sent references",
        "Requested floor plans",
        "Sent certificates and test reports",
        "Follow-up on offer",
        "Sent installation manual",
    ),
    "meeting": (
        "Kick-off meeting",
        "Meeting with facility management",
        "Presentation of Lumen Industries",
        "Objection handling meeting",
        "Negotiation meeting",
        "Meeting with the energy manager",
    ),
    "video_call": (
        "Video call: requirements",
        "Video call with purchasing",
        "Video call: offer walkthrough",
    ),
    "demo": ("Product demo: high-bay LED", "Light management demo", "Sensor demo"),
    "customer_visit": (
        "Site visit",
        "Visit: measure the hall",
        "Visit with the installer",
        "Customer visit",
    ),
    "offer_sent": ("Technical-commercial offer sent", "Offer sent", "Revised offer sent"),
    "lighting_data": (
        "Lighting calculation data received",
        "Floor plans and mounting heights received",
    ),
    "equipment_trial": ("Trial luminaires installed", "Trial installation started"),
    "contract_signed": ("Supply contract signed", "Contract signed"),
}
OUTCOMES = {
    "task": ("Done", "Done, sent to customer"),
    "call": (
        "Reached, interested",
        "Voicemail left",
        "Call back next week",
        "Requested an offer",
        "Not reached",
        "Agreed on next meeting",
    ),
    "email": ("Sent", "Answered", "No reply yet"),
    "meeting": (
        "Positive, next step agreed",
        "Objections on price",
        "Needs internal alignment",
        "Decision maker convinced",
        "Technical questions open",
    ),
    "video_call": ("Positive", "Follow-up needed", "Requirements clarified"),
    "demo": ("Convinced by the light quality", "Wants a trial", "Questions about DALI"),
    "customer_visit": (
        "Hall measured",
        "Good contact with plant manager",
        "Trial agreed",
        "Relationship maintained",
    ),
    "offer_sent": ("Offer sent by email", "Offer presented personally"),
    "lighting_data": ("Complete", "Partly received, heights missing"),
    "equipment_trial": ("Trial agreement signed", "Acceptance certificate signed"),
    "contract_signed": ("Signed", "Signed, delivery scheduled"),
}
DISCUSSIONS = (
    "Current lighting: {old} in the {area}; energy costs are a topic for management. "
    "{contact} wants a comparison of consumption and payback.",
    "Went through our offer position by position. Questions on warranty (5 years) and "
    "delivery time. {contact} compares with {competitor}.",
    "Presented references from similar {area} projects. Interest in light management with presence "
    "sensors.",
    "Discussed results of the trial installation: light level measured, staff feedback positive. "
    "Purchasing needs the certificates before the tender.",
    "Budget for {year} confirmed in principle; the board decides in the next meeting. "
    "Installer will be chosen by the customer.",
)
AGREEMENTS = (
    "Send DIALux lighting calculation",
    "Provide floor plans and mounting heights",
    "Send references from similar projects",
    "Arrange trial installation",
    "Clarify budget with management",
    "Send revised offer",
    "Prepare tender specification",
    "Send certificates and test reports",
    "Book follow-up visit",
)
COMMENTS = (
    "Customer asked for a 10% discount.",
    "Competitor offered a lower price per luminaire.",
    "Purchasing wants the certificates (ENEC, CE) before the tender.",
    "Trial luminaires still on site, follow up!",
    "Decision postponed to next quarter.",
    "Good feedback from the facility manager.",
    "Budget approved by the board.",
    "Installer partner is involved, coordinate the offer with them.",
    "Payment terms: 30 days net requested.",
    "New plant manager since last month.",
)
NEXT_STEPS = (
    "Call back",
    "Send references",
    "Book site visit",
    "Get floor plans",
    "Send lighting calculation",
    "Follow up on offer",
    "Arrange trial",
    "Negotiate terms",
    "Prepare tender documents",
    "Wait for board decision",
)
PROJECT_TYPES = (
    "Warehouse",
    "Production hall",
    "Outdoor area",
    "Street lighting",
    "Sports facility",
    "Office",
)
OLD_LIGHTING = (
    "sodium-vapour lamps",
    "fluorescent tubes T8",
    "metal-halide high-bays",
    "mercury lamps",
)

# --- the sales team -------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    volume: float  # share of new opportunities
    loss: float  # multiplier on the chance to lose at each stage
    amount: float  # multiplier on deal size
    amount_sigma: float
    duration: float  # multiplier on days per stage
    duration_sigma: float
    activity: float  # multiplier on activities
    extra_meetings: float  # extra meetings per stage
    lazy: float  # chance not to update an expected close date that has passed
    pipelines: tuple[float, float, float]  # standard, lighting, inbound
    quarter_end: bool = False  # closes cluster at quarter ends


STYLES = {
    "steady": Style(1.35, 0.72, 0.85, 0.4, 0.85, 0.35, 1.0, 0.0, 0.05, (0.35, 0.4, 0.25)),
    "star": Style(
        0.55, 1.0, 3.0, 0.8, 1.2, 0.8, 0.8, 0.0, 0.2, (0.25, 0.7, 0.05), quarter_end=True
    ),
    "weak": Style(1.25, 1.75, 0.8, 0.7, 1.25, 0.6, 1.2, 2.2, 0.35, (0.35, 0.45, 0.2)),
    "new": Style(1.0, 1.15, 0.7, 0.6, 1.1, 0.6, 1.1, 0.3, 0.2, (0.3, 0.3, 0.4)),
    "average": Style(1.0, 1.0, 1.0, 0.7, 1.0, 0.6, 1.0, 0.2, 0.15, (0.3, 0.45, 0.25)),
}

# username, first, last, role, team index, style, language, hired: (years ago, month) or days ago
PEOPLE: tuple[tuple[str, str, str, str, int | None, str, str, Any], ...] = (
    ("admin", "Heike", "Brandt", Role.ADMIN, None, "", "de", (6, 4)),
    ("manager", "Katrin", "Vogel", Role.MANAGER, 0, "", "de", (8, 1)),
    ("p.devries", "Pieter", "de Vries", Role.MANAGER, 1, "", "nl", (7, 9)),
    ("c.laurent", "Camille", "Laurent", Role.MANAGER, 2, "", "fr", (5, 3)),
    ("rep", "Jonas", "Weber", Role.REP, 0, "steady", "de", (9, 3)),
    ("rep2", "Lea", "Hoffmann", Role.REP, 0, "star", "de", (6, 9)),
    ("m.schulz", "Markus", "Schulz", Role.REP, 0, "weak", "de", (5, 2)),
    ("f.wagner", "Felix", "Wagner", Role.REP, 0, "average", "de", (7, 5)),
    ("n.yilmaz", "Nina", "Yilmaz", Role.REP, 0, "new", "de", 120),
    ("s.jansen", "Sanne", "Jansen", Role.REP, 1, "average", "nl", (8, 6)),
    ("b.peeters", "Bram", "Peeters", Role.REP, 1, "average", "nl", (4, 10)),
    ("l.maes", "Lotte", "Maes", Role.REP, 1, "average", "fr", (3, 1)),
    ("t.bakker", "Tim", "Bakker", Role.REP, 1, "average", "nl", 430),
    ("j.moreau", "Julien", "Moreau", Role.REP, 2, "average", "fr", (6, 2)),
    ("e.girard", "Émilie", "Girard", Role.REP, 2, "average", "fr", (4, 9)),
    ("a.rousseau", "Antoine", "Rousseau", Role.REP, 2, "average", "fr", (3, 5)),
    ("marketing", "Sophie", "Klein", Role.MARKETING, None, "", "de", (4, 1)),
    ("viewer", "Martin", "Albrecht", Role.READ_ONLY, None, "", "de", (12, 1)),
)
HOURLY_COST: dict[str, str] = {
    Role.ADMIN: "52.00",
    Role.MANAGER: "82.00",
    Role.REP: "58.00",
    Role.MARKETING: "55.00",
    Role.READ_ONLY: "95.00",
}


@dataclass
class Rep:
    index: int
    user: User
    team: int
    style: Style
    style_name: str
    hire_day: int  # relative to the start of the history (may be negative)
    volume: float
    loss: float
    amount: float
    manager_id: int | None = None
    teammates: list[int] = field(default_factory=list)  # rep indices of the same team
    accounts: list[int] = field(default_factory=list)  # account indices, by creation day
    account_days: list[int] = field(default_factory=list)


@dataclass
class PipeRef:
    spec: PipelineSpec
    index: int
    open: list[Stage]
    won: Stage
    lost: Stage


# --- helpers --------------------------------------------------------------------------------

_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)
_LEGAL = {
    "gmbh",
    "co",
    "kg",
    "ag",
    "se",
    "bv",
    "nv",
    "sa",
    "sas",
    "sarl",
    "srl",
    "s",
    "a",
    "r",
    "l",
}


def _ascii(text: str) -> str:
    text = text.translate(_TRANSLIT)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def normalize_name(name: str) -> str:
    """Lowercase ASCII words without punctuation and legal forms (for duplicate detection)."""
    cleaned = "".join(ch if ch.isalnum() else " " for ch in _ascii(name).lower())
    words = [w for w in cleaned.split() if w not in _LEGAL]
    return " ".join(words) or cleaned.strip()


def _slug(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in _ascii(text).lower())
    return "-".join(part for part in cleaned.split("-") if part)


def _tune(conn: Any, *, synchronous: str = "OFF") -> None:
    """SQLite settings for a bulk load on this connection."""
    if conn.vendor == "sqlite":
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -131072")  # index pages stay in memory
            if not conn.in_atomic_block:  # (SQLite refuses it inside a transaction)
                # A crash in the middle of seeding means seeding again anyway.
                cursor.execute(f"PRAGMA synchronous = {synchronous}")


def _round_amount(value: float) -> int:
    step = 50 if value < 10000 else 100 if value < 200000 else 1000
    return max(step * 4, round(value / step) * step)


class _Generator:
    def __init__(
        self,
        *,
        opportunities: int,
        seed: int,
        end: dt.date,
        progress: ProgressFn | None,
        chunk_size: int,
    ) -> None:
        self.n_opps = opportunities
        self.n_accounts = max(50, opportunities // 4)
        self.rng = random.Random(seed)
        self.seed = seed
        self.end = end
        self.start = end - dt.timedelta(days=HISTORY_DAYS)
        self.tz = timezone.get_default_timezone()
        self.base = dt.datetime(self.start.year, self.start.month, self.start.day, tzinfo=self.tz)
        self.cutoff = HISTORY_DAYS * MINUTES_PER_DAY  # history ends when ``end`` begins
        self.start_weekday = self.start.weekday()
        self.progress = progress or (lambda phase, done, total: None)
        self.chunk_size = chunk_size
        self.new_activity = Rows(Activity)
        self.new_contact = Rows(Contact)
        self.new_membership = Rows(AccountContact)
        self.new_comment = Rows(Comment)
        self.writer = BulkWriter()
        self.next_activity_id = 0
        self.new_account = Rows(Account)
        self.new_agreement = Rows(Agreement)
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "accounts",
                "contacts",
                "opportunities",
                "events",
                "activities",
                "agreements",
                "comments",
                "won",
                "lost",
                "open",
            ),
            0,
        )

    # -- time ------------------------------------------------------------------------------

    def at(self, minute: int) -> dt.datetime:
        return self.base + dt.timedelta(minutes=minute)

    def date_of(self, minute: int) -> dt.date:
        return self.start + dt.timedelta(days=minute // MINUTES_PER_DAY)

    def day_of(self, date: dt.date) -> int:
        return (date - self.start).days

    def weekday(self, day: int) -> int:
        return (self.start_weekday + day) % 7

    def working_minute(self, day: int, after: int = -1) -> int:
        """A minute during office hours of ``day`` (Monday if it is a weekend), after ``after``."""
        wd = self.weekday(day)
        if wd >= 5 and self.rng.random() < 0.93:
            day += 7 - wd
        minute = day * MINUTES_PER_DAY + self.rng.randint(7 * 60 + 30, 17 * 60 + 30)
        if minute <= after:
            minute = after + self.rng.randint(3, 45)
        return minute

    def office(self, minute: int) -> int:
        """``minute`` moved into office hours (the same day, or Monday after a weekend)."""
        day, time = divmod(minute, MINUTES_PER_DAY)
        if time > 18 * 60:
            day += 1
        elif self.weekday(day) < 5 and time >= 7 * 60 + 30:
            return minute
        return self.working_minute(day)

    def advance(self, minute: int, days: float) -> int:
        return self.working_minute(minute // MINUTES_PER_DAY + int(days), minute)

    def phone(self, country: str, *, mobile: bool = False) -> str:
        rng = self.rng
        if mobile:
            return f"{PHONE_PREFIX[country]} 1{rng.randint(50, 79)} {rng.randint(1000000, 9999999)}"
        return f"{PHONE_PREFIX[country]} {rng.randint(10, 99)} {rng.randint(100000, 9999999)}"

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # -- reference data ----------------------------------------------------------------------

    def reference(self) -> None:
        rng = self.rng
        ensure_company_settings(name=COMPANY_NAME, currency="EUR")
        update_company_settings(name=COMPANY_NAME, currency="EUR", locale="en")
        # Monthly exchange rates (value of 1 unit in EUR) as a gentle random walk.
        month = dt.date(self.start.year, self.start.month, 1)
        rates = {"USD": 0.92, "GBP": 1.17, "CHF": 1.04}
        while month <= self.end:
            for code in ("USD", "GBP", "CHF"):
                rates[code] *= 1 + rng.gauss(0, 0.012)
                set_exchange_rate(
                    currency=code, valid_from=month, rate=Decimal(f"{rates[code]:.6f}")
                )
            month = (month + dt.timedelta(days=32)).replace(day=1)

        statuses = [
            ("Prospect", True, False),
            ("Hot prospect", False, False),
            ("Cold prospect", False, False),
            ("Customer", False, True),
            ("Former customer", False, False),
            ("Competitor", False, False),
        ]
        AccountStatus.objects.bulk_create(
            [
                AccountStatus(name=n, order=i, is_default=d, is_customer=c)
                for i, (n, d, c) in enumerate(statuses)
            ]
        )
        Tier.objects.bulk_create(
            [
                Tier(name=n, order=i, colour=c)
                for i, (n, c) in enumerate(
                    [("Gold", "#d4af37"), ("Silver", "#a8a9ad"), ("Bronze", "#cd7f32")]
                )
            ]
        )
        AccountType.objects.bulk_create(
            [
                AccountType(name=n, order=i)
                for i, n in enumerate(
                    [
                        "End customer",
                        "Installer / contractor",
                        "Distributor / wholesaler",
                        "Engineering office",
                        "Public authority",
                    ]
                )
            ]
        )
        Industry.objects.bulk_create(
            [
                Industry(name=n, order=i)
                for i, n in enumerate(
                    [
                        "Logistics and warehousing",
                        "Manufacturing",
                        "Automotive",
                        "Food and beverage",
                        "Retail",
                        "Public sector",
                        "Sports facilities",
                        "Agriculture",
                        "Chemicals",
                        "Construction",
                    ]
                )
            ]
        )
        Region.objects.bulk_create(
            [Region(name=r.name, country=r.country, order=i) for i, r in enumerate(REGIONS)]
        )
        ContactRole.objects.bulk_create(
            [
                ContactRole(name=n, order=i)
                for i, n in enumerate(
                    ["Decision maker", "Billing contact", "Technical contact", "User"]
                )
            ]
        )
        TagCategory.objects.bulk_create(
            [
                TagCategory(name=n, order=i)
                for i, n in enumerate(["Potential", "Interest", "Segment"])
            ]
        )
        cats = {c.name: c for c in TagCategory.objects.all()}
        Tag.objects.bulk_create(
            [
                Tag(category=cats[c], name=n)
                for c, names in (
                    ("Potential", ["High potential", "Medium potential", "Low potential"]),
                    (
                        "Interest",
                        [
                            "LED retrofit",
                            "Outdoor lighting",
                            "Emergency lighting",
                            "Light management",
                            "Energy savings",
                        ],
                    ),
                    (
                        "Segment",
                        ["Key account", "Multi-site", "Public tender", "Installer network"],
                    ),
                )
                for n in names
            ]
        )
        LostReason.objects.bulk_create(
            [LostReason(name=n, order=i) for i, n in enumerate(LOST_REASONS)]
        )
        Source.objects.bulk_create([Source(name=n, channel=c) for n, c in SOURCES])
        ProductLine.objects.bulk_create(
            [ProductLine(name=n, code=c, list_price=Decimal(p)) for n, c, p in PRODUCT_LINES]
        )
        ActivityType.objects.bulk_create(
            [
                ActivityType(
                    name=name,
                    code=code,
                    colour=colour,
                    is_milestone=milestone,
                    is_meeting=minutes,
                    order=i,
                )
                for i, (code, name, colour, milestone, minutes, _d) in enumerate(ACTIVITY_TYPES)
            ]
        )

        self.pipes: list[PipeRef] = []
        for index, spec in enumerate(PIPELINES):
            pipeline = create_pipeline(
                name=spec.name,
                is_default=spec.key == "standard",
                description=spec.description,
                stages=[
                    {
                        "name": s.name,
                        "probability": s.probability,
                        "rotting_days": s.rotting_days,
                        "function": s.function,
                        "checklist": list(s.checklist),
                    }
                    for s in spec.stages
                ],
            )
            stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order"))
            self.pipes.append(
                PipeRef(
                    spec=spec,
                    index=index,
                    open=[s for s in stages if s.kind == StageKind.OPEN],
                    won=next(s for s in stages if s.kind == StageKind.WON),
                    lost=next(s for s in stages if s.kind == StageKind.LOST),
                )
            )
        lighting = self.pipes[1]
        define_field(
            target=Target.OPPORTUNITY,
            key="lighting_calc_received",
            label="Lighting calculation data received",
            field_type=FieldType.BOOLEAN,
            required_from_stage=lighting.open[4],
            order=1,
            help_text="Floor plans, mounting heights and required lux levels are in.",
        )
        define_field(
            target=Target.OPPORTUNITY,
            key="project_type",
            label="Project type",
            field_type=FieldType.CHOICE,
            choices=list(PROJECT_TYPES),
            order=2,
        )
        define_field(
            target=Target.OPPORTUNITY,
            key="luminaires",
            label="Number of luminaires",
            field_type=FieldType.NUMBER,
            order=3,
        )
        define_field(
            target=Target.ACCOUNT,
            key="vat_id",
            label="VAT ID",
            field_type=FieldType.TEXT,
            help_text="EU VAT identification number, e.g. DE123456789.",
            order=1,
        )
        self.opp_defs = definitions(Target.OPPORTUNITY)
        self.account_defs = definitions(Target.ACCOUNT)

        self.statuses = {s.name: s for s in AccountStatus.objects.all()}
        self.tiers = list(Tier.objects.order_by("order"))
        self.account_types = list(AccountType.objects.order_by("order"))
        self.industries = list(Industry.objects.order_by("order"))
        self.regions = list(Region.objects.order_by("order"))
        self.contact_roles = {r.name: r.pk for r in ContactRole.objects.all()}
        self.tags = list(Tag.objects.order_by("category__order", "name"))
        self.reasons = list(LostReason.objects.order_by("order"))
        self.sources = list(Source.objects.order_by("pk"))
        self.products = list(ProductLine.objects.order_by("pk"))
        self.activity_types = {t.code: t for t in ActivityType.objects.all()}
        self.durations = {code: d for code, _n, _c, _m, _t, d in ACTIVITY_TYPES}
        self.users()

    def users(self) -> None:
        rng = self.rng
        teams: list[Team] = []
        people: dict[str, User] = {}
        for username, first, last, role, team_index, _style, lang, hired in PEOPLE:
            if isinstance(hired, int):
                hired_on = self.end - dt.timedelta(days=hired)
            else:
                hired_on = dt.date(self.end.year - hired[0], hired[1], 1)
            team = teams[team_index] if team_index is not None and role == Role.REP else None
            # The demo password is hashed once below (fixed salt: the seed is reproducible).
            user = create_user(
                username=username,
                password=None,  # type: ignore[arg-type]
                role=role,
                email=f"{_ascii(first).lower()}.{_slug(last).replace('-', '')}@lumen-industries.eu",
                first_name=first,
                last_name=last,
                team=team,
                check_password=False,
                hourly_cost=Decimal(HOURLY_COST[role]) + rng.randint(-4, 4),
                hired_on=hired_on,
            )
            user.language = lang
            people[username] = user
            if role == Role.MANAGER:
                teams.append(create_team(name=TEAMS[len(teams)], manager=user))
        password = make_password(DEMO_PASSWORD, salt=f"salescopedemo{self.seed}")
        for user in people.values():
            user.password = password
            assert user.hired_on is not None
            user.date_joined = dt.datetime.combine(user.hired_on, dt.time(9), tzinfo=self.tz)
        User.objects.bulk_update(list(people.values()), ["password", "date_joined", "language"])
        self.users_by_name = people
        self.marketing = people["marketing"]
        self.reps: list[Rep] = []
        for username, _f, _l, role, team_index, style_name, _lang, _h in PEOPLE:
            if role != Role.REP:
                continue
            style = STYLES[style_name]
            user = people[username]
            jitter = style_name == "average"
            self.reps.append(
                Rep(
                    index=len(self.reps),
                    user=user,
                    team=team_index or 0,
                    style=style,
                    style_name=style_name,
                    hire_day=self.day_of(user.hired_on or self.start),
                    volume=style.volume * (rng.uniform(0.85, 1.15) if jitter else 1),
                    loss=style.loss * (rng.uniform(0.85, 1.2) if jitter else 1),
                    amount=style.amount * (rng.uniform(0.85, 1.15) if jitter else 1),
                    manager_id=teams[team_index or 0].manager_id,
                )
            )
        for rep in self.reps:
            rep.teammates = [r.index for r in self.reps if r.team == rep.team and r is not rep]
        self.team_reps = [[r.index for r in self.reps if r.team == t] for t in range(len(TEAMS))]
        self.new_hire = next(r for r in self.reps if r.style_name == "new")

    # -- accounts and contacts ---------------------------------------------------------------

    def accounts(self) -> None:
        rng = self.rng
        n = self.n_accounts
        self.acc_id = array("q")
        self.acc_tier = array("b")
        self.acc_day = array("i")
        self.acc_short = []  # name without legal form, for opportunity names
        self.acc_contact_start = array("q")
        self.acc_contact_n = array("b")
        self.contact_ids = array("q")
        # pks are allocated here (the database is empty); sequences are reset when done.
        self.next_id: dict[type[Any], int] = {
            model: model.objects.aggregate(last=Max("id"))["last"] or 0
            for model in (Account, Contact, AccountContact)
        }
        used_names: set[str] = set()
        used_domains: set[str] = set()
        region_weights = list(itertools.accumulate(r.weight for r in REGIONS))
        job_weights = list(itertools.accumulate(j[2] for j in JOB_TITLES))
        status_prospect = self.statuses["Prospect"]
        status_cold = self.statuses["Cold prospect"]
        status_competitor = self.statuses["Competitor"]
        industries = self.industries
        tier_gold, tier_silver, tier_bronze = self.tiers
        potential = self.tags[:3]
        other_tags = self.tags[3:]
        done = 0
        self.progress("accounts", 0, n)
        while done < n:
            size = min(ACCOUNT_CHUNK, n - done)
            accounts: list[dict[str, Any]] = []
            meta: list[
                tuple[int, int, str, str, str, int]
            ] = []  # rep, day, lang, country, domain, tier
            for _ in range(size):
                region_index = bisect.bisect(region_weights, rng.random() * region_weights[-1])
                region_index = min(region_index, len(REGIONS) - 1)
                region = REGIONS[region_index]
                lang = region.lang
                country = region.country
                city, postal = rng.choice(region.cities)
                public = rng.random() < 0.05
                competitor = not public and rng.random() < 0.01
                if public:
                    short = PUBLIC_BODY[country].format(city=city)
                    name = short
                elif competitor:
                    short = rng.choice(COMPETITORS)
                    name = short
                else:
                    surname = rng.choice(SURNAMES[lang])
                    branch = rng.choice(BRANCHES[lang])
                    if lang == "fr":
                        short = f"{branch} {surname}"
                    elif rng.random() < 0.15:
                        short = f"{surname} & {rng.choice(SURNAMES[lang])}"
                    else:
                        short = f"{surname} {branch}"
                    name = f"{short} {rng.choice(LEGAL_FORMS[country])}"
                if name in used_names:
                    short = f"{short} {city}"
                    name = f"{short} {rng.choice(LEGAL_FORMS[country])}" if not public else short
                    while name in used_names:
                        short = f"{short} {rng.randint(2, 99)}"
                        name = (
                            short if public or competitor else f"{short} {LEGAL_FORMS[country][0]}"
                        )
                used_names.add(name)
                domain_name = f"{_slug(short)}.{TLD[country]}"
                while domain_name in used_domains:
                    domain_name = f"{_slug(short)}-{rng.randint(2, 999)}.{TLD[country]}"
                used_domains.add(domain_name)
                # 60% of the base existed before the history starts; the rest is acquired since.
                day = (
                    -rng.randint(1, 2500)
                    if rng.random() < 0.6
                    else rng.randint(0, HISTORY_DAYS - 20)
                )
                team_reps = self.team_reps[region.team]
                weights = [
                    self.reps[r].volume * (0.4 if self.reps[r].hire_day > 0 else 1)
                    for r in team_reps
                ]
                rep = self.reps[rng.choices(team_reps, weights)[0]]
                if rep.hire_day > day:  # accounts of a new hire were handed over to them
                    day = min(day, rng.randint(-900, -30))
                age = -day
                tier_roll = rng.random() + min(age, 2000) / 8000
                tier = (
                    tier_gold
                    if tier_roll > 0.93
                    else tier_silver
                    if tier_roll > 0.62
                    else (tier_bronze if tier_roll > 0.15 else None)
                )
                employees = int(math.exp(rng.gauss(4.6, 1.1))) + 5
                created = self.working_minute(day) if day >= 0 else day * MINUTES_PER_DAY + 600
                created_at = self.at(created)
                vat = None
                if rng.random() < 0.75:
                    vat = f"{country}{rng.randint(100000000, 999999999)}"
                custom = clean_custom_values(
                    target=Target.ACCOUNT,
                    values={"vat_id": vat} if vat else {},
                    creating=True,
                    defs=self.account_defs,
                )
                street = rng.choice(STREETS[lang])
                number = rng.randint(1, 180)
                if public:
                    account_type, industry = self.account_types[4], industries[5]
                else:
                    account_type = self.account_types[rng.choices(range(4), (70, 15, 8, 7))[0]]
                    industry = industries[
                        rng.choices(range(10), (20, 20, 8, 10, 8, 0, 4, 6, 6, 8))[0]
                    ]
                status = (
                    status_competitor
                    if competitor
                    else (status_prospect if rng.random() < 0.6 else status_cold)
                )
                self.next_id[Account] += 1
                accounts.append(
                    self.new_account(
                        id=self.next_id[Account],
                        name=name,
                        normalized_name=normalize_name(name),
                        status_id=status.pk,
                        tier_id=tier.pk if tier else None,
                        account_type_id=account_type.pk,
                        industry_id=industry.pk,
                        region_id=self.regions[region_index].pk,
                        owner_id=rep.user.pk,
                        website=f"https://www.{domain_name}",
                        domain=domain_name,
                        phone=self.phone(country),
                        street=f"{number} {street}" if lang == "fr" else f"{street} {number}",
                        postal_code=f"{postal}{rng.randint(100, 999)}"
                        if country != "NL"
                        else f"{postal}{rng.randint(10, 99)} {rng.choice('ABCDEFGHKLMNPRSTVWXZ')}"
                        f"{rng.choice('ABCDEFGHKLMNPRSTVWXZ')}",
                        city=city,
                        country=country,
                        employees=employees,
                        annual_revenue=Decimal(employees * rng.randint(120, 260) * 1000),
                        custom=custom,
                        created_at=created_at,
                        updated_at=created_at,
                        created_by_id=rep.user.pk,
                        updated_by_id=rep.user.pk,
                    )
                )
                meta.append(
                    (
                        rep.index,
                        day,
                        lang,
                        country,
                        domain_name,
                        -1 if competitor else (self.tiers.index(tier) if tier else 3),
                    )
                )
                self.acc_short.append(short)
            contacts: list[dict[str, Any]] = []
            memberships: list[dict[str, Any]] = []
            role_rows: list[tuple[int, int]] = []
            tag_rows: list[tuple[int, int]] = []
            for account, (rep_index, day, lang, country, domain_name, tier_index) in zip(
                accounts, meta, strict=True
            ):
                index = len(self.acc_id)
                account_id = account["id"]
                owner_id = account["owner_id"]
                self.acc_id.append(account_id)
                self.acc_tier.append(tier_index)
                self.acc_day.append(day)
                if tier_index >= 0:  # competitors get no opportunities
                    rep = self.reps[rep_index]
                    rep.accounts.append(index)
                    rep.account_days.append(day)
                n_contacts = rng.choices((1, 2, 3, 4), (30, 40, 20, 10))[0]
                if tier_index < 0:
                    n_contacts = 0
                self.acc_contact_start.append(len(self.contact_ids))
                self.acc_contact_n.append(n_contacts)
                names_here: set[str] = set()
                for c in range(n_contacts):
                    first = rng.choice(FIRST_NAMES[lang])
                    last = rng.choice(SURNAMES[lang])
                    while f"{first} {last}" in names_here:
                        last = rng.choice(SURNAMES[lang])
                    names_here.add(f"{first} {last}")
                    job = JOB_TITLES[
                        bisect.bisect(job_weights, rng.random() * job_weights[-1])
                        if c
                        else rng.randrange(4)
                    ]
                    cday = (
                        max(day, day + rng.randint(0, 400)) if day < 0 else day + rng.randint(0, 30)
                    )
                    cday = min(cday, HISTORY_DAYS - 1)
                    created_at = self.at(cday * MINUTES_PER_DAY + 660)
                    self.next_id[Contact] += 1
                    contact_id = self.next_id[Contact]
                    self.contact_ids.append(contact_id)
                    contacts.append(
                        self.new_contact(
                            id=contact_id,
                            first_name=first,
                            last_name=last,
                            email=f"{_slug(first)}.{_slug(last).replace('-', '')}@{domain_name}",
                            phone=self.phone(country),
                            mobile=self.phone(country, mobile=True) if rng.random() < 0.6 else "",
                            job_title=job[0],
                            language=lang,
                            owner_id=owner_id,
                            created_at=created_at,
                            updated_at=created_at,
                            created_by_id=owner_id,
                            updated_by_id=owner_id,
                        )
                    )
                    left = rng.random() < 0.07
                    since = self.start + dt.timedelta(days=cday)
                    until = (since + dt.timedelta(days=rng.randint(90, 900))) if left else None
                    if until is not None and until >= self.end:
                        until = None
                    self.next_id[AccountContact] += 1
                    memberships.append(
                        self.new_membership(
                            id=self.next_id[AccountContact],
                            account_id=account_id,
                            contact_id=contact_id,
                            is_primary=c == 0,
                            since=since,
                            until=until,
                        )
                    )
                    role_rows.extend(
                        (self.next_id[AccountContact], self.contact_roles[r]) for r in job[1]
                    )
                tag_rows.append((account_id, rng.choice(potential).pk))
                for tag in rng.sample(other_tags, rng.choices((0, 1, 2), (40, 40, 20))[0]):
                    tag_rows.append((account_id, tag.pk))
            w = self.writer
            with transaction.atomic():
                w.objects(Account, accounts, with_pk=True)
                w.objects(Contact, contacts, with_pk=True)
                w.objects(AccountContact, memberships, with_pk=True)
                w.links(
                    AccountContact.roles.through, ("accountcontact_id", "contactrole_id"), role_rows
                )
                w.links(Account.tags.through, ("account_id", "tag_id"), tag_rows)
            self.counts["accounts"] += len(accounts)
            self.counts["contacts"] += len(contacts)
            done += size
            self.progress("accounts", done, n)

    # -- opportunities -----------------------------------------------------------------------

    def creation_days(self) -> array:
        """2 x creation day of each opportunity, sorted; +1 marks the pipeline that existed when
        the company started with Salescope (created in the first two weeks, at any stage)."""
        rng = self.rng
        month_factor = (0.95, 1.0, 1.25, 1.05, 1.0, 0.95, 0.85, 0.5, 1.1, 1.2, 1.2, 0.75)
        weights = []
        for day in range(HISTORY_DAYS):
            date = self.start + dt.timedelta(days=day)
            w = month_factor[date.month - 1] * (1 + 0.12 * day / 365)
            if (date.month == 12 and date.day >= 20) or (date.month == 1 and date.day <= 2):
                w *= 0.25
            if date.weekday() >= 5:
                w *= 0.04
            weights.append(w)
        cumulative = list(itertools.accumulate(weights))
        total = cumulative[-1]
        n_import = self.n_opps * 5 // 100
        values = array("i")
        for i in range(self.n_opps):
            if i < n_import:  # the pipeline that existed when the company started with Salescope
                values.append(rng.randint(0, 13) * 2 + 1)
            else:
                day = bisect.bisect(cumulative, rng.random() * total)
                values.append(min(day, HISTORY_DAYS - 1) * 2)
        return array("i", sorted(values))

    def opportunities(self) -> None:
        days = self.creation_days()
        total = len(days)
        self.progress("opportunities", 0, total)
        self.next_id[Opportunity] = Opportunity.objects.aggregate(last=Max("id"))["last"] or 0
        for offset in range(0, total, self.chunk_size):
            self.chunk(days[offset : offset + self.chunk_size])
            self.progress("opportunities", min(offset + self.chunk_size, total), total)

    def account_stub(self, acc: int) -> Account:
        """An unsaved stand-in carrying the account's pk (all an opportunity needs of it)."""
        stub = self.batch.accounts.get(acc)
        if stub is None:
            stub = self.batch.accounts[acc] = self.new_account.instance(id=self.acc_id[acc])
        return stub

    def pick_rep(self, day: int) -> Rep:
        rng = self.rng
        reps = []
        weights = []
        for rep in self.reps:
            if rep.hire_day > day:
                continue
            ramp = min(1.0, 0.35 + (day - rep.hire_day) / 180)
            reps.append(rep)
            weights.append(rep.volume * ramp)
        return rng.choices(reps, weights)[0]

    def pick_account(self, rep: Rep, day: int) -> int:
        if not rep.accounts:  # a tiny company: borrow a colleague's accounts
            rep = max(self.reps, key=lambda r: (r.team == rep.team, len(r.accounts)))
        eligible = bisect.bisect_right(rep.account_days, day)
        if eligible == 0:
            eligible = len(rep.accounts)
        # Older accounts (the established customers) get more business.
        return rep.accounts[int(eligible * self.rng.random() ** 1.6)]

    def chunk(self, days: Sequence[int]) -> None:
        """Simulate a chunk of opportunities in memory, then insert it in one transaction."""
        self.batch = _Batch()
        for value in days:
            self.simulate(value // 2, imported=bool(value & 1))
        b = self.batch
        with transaction.atomic():
            self.write_chunk(b)
        c = self.counts
        c["opportunities"] += len(b.opps)
        c["events"] += len(b.events)
        c["activities"] += len(b.activities)
        c["agreements"] += len(b.agreements)
        c["comments"] += len(b.comments)
        for opp in b.opps:
            c[opp.outcome] += 1
        self.batch = _Batch()
        gc.collect()

    def amount_for(self, pipe: PipeRef, rep: Rep, tier: int) -> int:
        spec = pipe.spec
        tier_factor = (1.8, 1.0, 0.6, 0.8)[tier]
        sigma = (spec.amount_sigma + rep.style.amount_sigma) / 2
        return _round_amount(
            min(
                5_000_000.0,
                spec.amount_median * rep.amount * tier_factor * math.exp(self.rng.gauss(0, sigma)),
            )
        )

    def simulate(self, day: int, *, imported: bool) -> None:
        rng = self.rng
        b = self.batch
        rep = self.pick_rep(day)
        style = rep.style
        pipe = self.pipes[rng.choices((0, 1, 2), style.pipelines)[0]]
        spec = pipe.spec
        k = len(pipe.open)
        acc = self.pick_account(rep, day)
        tier = self.acc_tier[acc]
        m = self.working_minute(day)
        if m >= self.cutoff:  # a weekend just before ``end``: created on the Friday instead
            m = self.cutoff - self.rng.randint(2 * MINUTES_PER_DAY + 400, 3 * MINUTES_PER_DAY - 420)
        if imported:
            idx = rng.choices(range(k), [k - i for i in range(k)])[0]
        else:
            idx = 1 if k > 2 and rng.random() < 0.08 else 0
        amount = self.amount_for(pipe, rep, tier)
        currency = "EUR"
        roll = rng.random()
        if roll < 0.03:
            currency = "USD"
        elif roll < 0.045:
            currency = "GBP"
        elif roll < 0.06:
            currency = "CHF"
        # Expected close: optimistic, often the end of a month.
        remaining = sum(s.mean_days for s in spec.stages[idx:])
        ec_day = day + max(5, int(remaining * style.duration * rng.uniform(0.45, 0.9)))
        if rng.random() < 0.35:
            ec_day = self.day_of(self._month_end(self.start + dt.timedelta(days=ec_day)))
        custom: dict[str, Any] = {}
        project = rng.choice(PROJECT_TYPES)
        if spec.key == "lighting":
            custom["project_type"] = project
            if idx >= 2:
                custom["lighting_calc_received"] = True
        product_indices = rng.sample(spec.products, rng.choices((1, 2, 3), (55, 35, 10))[0])
        title = rng.choice(spec.opportunity_titles).format(
            year=self.date_of(m).year + (1 if self.date_of(m).month >= 10 else 0),
            project=project,
            phase=rng.randint(2, 3),
            product=PRODUCT_LINES[product_indices[0]][0].lower(),
        )
        name = f"{self.acc_short[acc]} – {title}"
        source = self.sources[
            rng.choices([s for s, _w in spec.sources], [w for _s, w in spec.sources])[0]
        ]

        creator = rep.user
        handover_to_rep = False
        if spec.key == "inbound" and rng.random() < 0.5 and not imported:
            creator = self.marketing  # marketing qualifies web requests, then hands them over
            handover_to_rep = True
        at = self.at(m)
        self.next_id[Opportunity] += 1
        opp = Opportunity(
            id=self.next_id[Opportunity],
            created_at=at,
            updated_at=at,
            created_by_id=creator.pk,
            updated_by_id=creator.pk,
        )
        domain.init_opportunity(
            opp,
            name=name,
            stage=pipe.open[idx],
            owner=creator,
            amount=Decimal(amount),
            currency=currency,
            expected_close=self.start + dt.timedelta(days=ec_day),
            account=self.account_stub(acc),
            source=source,
            next_step=rng.choice(NEXT_STEPS),
            custom=custom,
            defs=self.opp_defs,
            at=at,
        )
        created = domain.build_events(
            opp=opp,
            before=None,
            verb="create_opportunity",
            actor_id=creator.pk,
            at=at,
            recorded_at=at,
            origin=EventOrigin.DEMO,
            action_id=self.uuid(),
        )
        b.events.extend(created)
        b.opps.append(opp)
        sim = _Life(
            opp=opp,
            pipe=pipe,
            rep=rep,
            minute=m,
            state=dict(created[0].new_value or {}),
            owners=[(m, -1 if handover_to_rep else rep.index)],
        )
        if handover_to_rep:
            self.step(
                sim,
                "reassign",
                self.marketing.pk,
                m + rng.randint(20, 600),
                lambda: domain.reassign(opp, owner=rep.user),
            )
        stuck = rng.random() < 0.03
        handover = None
        if (
            rep.team == self.new_hire.team
            and rep.style_name in ("average", "weak")
            and day < self.new_hire.hire_day
            and rng.random() < 0.15
        ):
            handover = self.working_minute(self.new_hire.hire_day + rng.randint(0, 20))
        backs = 0
        reopened = False
        lazy = rng.random() < style.lazy
        stage_in = m
        log = sim.stages
        while True:
            stage_spec = spec.stages[idx]
            dwell = (
                stage_spec.mean_days * style.duration * math.exp(rng.gauss(0, style.duration_sigma))
            )
            if stuck:
                dwell *= 6
            m_next = self.advance(
                sim.minute, max(0.0, dwell - (sim.minute - stage_in) / MINUTES_PER_DAY)
            )
            final = idx == k - 1
            date_next = self.date_of(m_next)
            if (date_next.month == 8 and rng.random() < 0.5) or (
                date_next.month == 12 and date_next.day >= 18 and rng.random() < 0.6
            ):
                m_next = self.advance(m_next, rng.randint(7, 21))  # holidays delay decisions
            if final and style.quarter_end and rng.random() < 0.65:
                q_end = self._quarter_end(self.date_of(m_next))
                m_next = self.working_minute(self.day_of(q_end) - rng.randint(0, 6), m_next)
            p_lost = min(0.92, stage_spec.p_lost * rep.loss)
            if rng.random() < p_lost:
                action, target = "lost", -1
            elif final:
                action, target = "won", -1
            elif idx > 0 and backs == 0 and rng.random() < stage_spec.p_back:
                action, target = "move", idx - 1
                backs += 1
            else:
                target = idx + 1
                while target < k - 1 and rng.random() < spec.stages[target].p_skip:
                    target += 1
                action = "move"
            # Things that happen while the deal sits in this stage.
            limit = min(m_next, self.cutoff)
            side: list[tuple[int, str]] = []
            if handover is not None and sim.minute < handover < limit:
                side.append((handover, "handover"))
                handover = None
            for what, chance in (("amount", 0.1), ("reassign", 0.015), ("probability", 0.04)):
                if rng.random() < chance:
                    side.append(
                        (
                            self.office(
                                rng.randint(sim.minute + 1, max(sim.minute + 1, limit - 1))
                            ),
                            what,
                        )
                    )
            side.sort()
            cursor = sim.minute
            for minute, what in side:
                if minute >= limit:
                    continue
                minute = max(minute, cursor + 1)
                if minute >= limit:
                    continue
                self.slips(sim, minute, lazy)
                minute = max(minute, sim.minute + 1)
                if minute >= limit:
                    continue
                self.side_step(sim, what, minute)
                cursor = sim.minute
            self.slips(sim, limit, lazy)
            if m_next >= self.cutoff:
                log.append((idx, stage_in, None, "open"))
                break
            m_next = max(m_next, sim.minute + 1)
            actor = sim.owner_user(self).pk
            if action == "move":
                moved_from = idx
                extra_custom = None
                if spec.key == "lighting" and idx <= 1 < target:
                    extra_custom = {
                        "lighting_calc_received": True,
                        "luminaires": str(max(4, amount // rng.randint(250, 600))),
                    }
                probability = None
                if rng.random() < 0.12:
                    base = spec.stages[target].probability
                    probability = max(1, min(99, base + rng.choice((-15, -10, -5, 5, 10, 15))))
                stage = pipe.open[target]
                self.step(
                    sim,
                    "move_to_stage",
                    actor,
                    m_next,
                    partial(
                        domain.move_to_stage,
                        opp,
                        stage=stage,
                        probability=probability,
                        custom=extra_custom,
                        defs=self.opp_defs,
                    ),
                )
                log.append((moved_from, stage_in, m_next, "forward" if target > idx else "back"))
                stage_in = m_next
                if (target == spec.offer_stage and rng.random() < 0.45) or (
                    target < idx and rng.random() < 0.7
                ):
                    factor = (
                        rng.uniform(0.85, 0.97) if target < idx else math.exp(rng.gauss(0, 0.25))
                    )
                    amount = _round_amount(float(opp.amount) * factor)
                    self.step(
                        sim,
                        "change_amount",
                        actor,
                        sim.minute + rng.randint(5, 240),
                        partial(domain.change_amount, opp, amount=Decimal(amount)),
                    )
                idx = target
                if idx >= k - 2 and idx > 0:
                    category = "commit" if idx == k - 1 else "best_case"
                    if rng.random() < (0.55 if category == "commit" else 0.4):
                        self.step(
                            sim,
                            "set_forecast_category",
                            actor,
                            sim.minute + rng.randint(2, 60),
                            partial(domain.set_forecast_category, opp, category=category),
                        )
                if rng.random() < 0.25:
                    self.step(
                        sim,
                        "update_details",
                        actor,
                        sim.minute + rng.randint(1, 30),
                        lambda: domain.update_details(
                            opp, next_step=rng.choice(NEXT_STEPS), defs=self.opp_defs
                        ),
                    )
                if sim.minute >= self.cutoff:  # a follow-up ran into ``end``: stop here
                    log.append((idx, stage_in, None, "open"))
                    break
                continue
            closed_on = self.date_of(m_next)
            if action == "won":
                final_amount = None
                if rng.random() < 0.25:
                    final_amount = Decimal(
                        _round_amount(float(opp.amount) * rng.uniform(0.85, 0.98))
                    )
                won_custom = None
                if spec.key == "lighting" and not opp.custom.get("lighting_calc_received"):
                    won_custom = {"lighting_calc_received": True}
                self.step(
                    sim,
                    "mark_won",
                    actor,
                    m_next,
                    partial(
                        domain.mark_won,
                        opp,
                        won_stage=pipe.won,
                        closed_on=closed_on,
                        amount=final_amount,
                        custom=won_custom,
                        defs=self.opp_defs,
                    ),
                )
            else:
                weights = LOST_WEIGHTS_LATE if idx >= k // 2 else LOST_WEIGHTS_EARLY
                reason = self.reasons[rng.choices(range(len(LOST_REASONS)), weights)[0]]
                note = ""
                if rng.random() < 0.3:
                    note = rng.choice(LOST_NOTES).format(competitor=rng.choice(COMPETITORS))
                self.step(
                    sim,
                    "mark_lost",
                    actor,
                    m_next,
                    partial(
                        domain.mark_lost,
                        opp,
                        lost_stage=pipe.lost,
                        reason=reason,
                        closed_on=closed_on,
                        note=note,
                    ),
                )
            log.append((idx, stage_in, m_next, action))
            # About 5% of closed deals are reopened: the customer comes back, or a won deal
            # fell through.
            if reopened or rng.random() >= 0.05:
                break
            m_re = self.advance(
                m_next, rng.randint(0, 2) if action == "won" else rng.randint(10, 90)
            )
            if m_re >= self.cutoff:
                break
            reopened = True
            self.step(
                sim,
                "reopen",
                sim.owner_user(self).pk,
                m_re,
                partial(domain.reopen, opp, stage=pipe.open[idx]),
            )
            stage_in = m_re
            new_ec = self.date_of(m_re) + dt.timedelta(days=rng.randint(14, 60))
            self.step(
                sim,
                "change_expected_close",
                sim.owner_user(self).pk,
                m_re + rng.randint(2, 30),
                partial(domain.change_expected_close, opp, expected_close=new_ec),
            )
            if sim.minute >= self.cutoff:
                log.append((idx, stage_in, None, "open"))
                break
        for p in product_indices:
            b.products.append((opp.pk, self.products[p].pk))
        start = self.acc_contact_start[acc]
        contact_pool = self.contact_ids[start : start + self.acc_contact_n[acc]]
        sim.contacts = list(contact_pool)
        for contact_id in contact_pool[: rng.choice((1, 1, 2))]:
            b.contacts.append((opp.pk, contact_id))
        self.activities(sim, acc)

    def _month_end(self, date: dt.date) -> dt.date:
        return (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)

    def _quarter_end(self, date: dt.date) -> dt.date:
        month = ((date.month - 1) // 3 + 1) * 3
        return self._month_end(dt.date(date.year, month, 1))

    def step(
        self, sim: _Life, verb: str, actor_id: int, minute: int, mutate: Callable[[], None]
    ) -> None:
        """Apply one pure transition at ``minute`` and record its events (like the services do)."""
        minute = max(minute, sim.minute + 1)
        if minute >= self.cutoff:
            return
        opp = sim.opp
        # Every change goes through here, so the state after the previous step is the snapshot.
        before = sim.state
        mutate()
        at = self.at(minute)
        events = domain.build_events(
            opp=opp,
            before=before,
            verb=verb,
            actor_id=actor_id,
            at=at,
            recorded_at=at,
            origin=EventOrigin.DEMO,
            action_id=self.uuid(),
        )
        if not events:
            return
        if opp.stage_id != before["stage"]:
            opp.stage_entered_at = at
        opp.version += 1
        opp.updated_at = at
        opp.updated_by_id = actor_id
        sim.minute = minute
        sim.state = dict(before)
        for event in events:
            sim.state[event.kind] = event.new_value
        self.batch.events.extend(events)
        if verb == "reassign":
            sim.owners.append((minute, self.rep_of_user[opp.owner_id]))

    def side_step(self, sim: _Life, what: str, minute: int) -> None:
        rng = self.rng
        opp = sim.opp
        actor = sim.owner_user(self).pk
        if what == "handover":
            if opp.owner_id == self.new_hire.user.pk:
                return
            self.step(
                sim,
                "reassign",
                self.new_hire.manager_id or actor,
                minute,
                lambda: domain.reassign(opp, owner=self.new_hire.user),
            )
        elif what == "reassign":
            current = self.rep_of_user.get(opp.owner_id)
            rep = self.reps[current] if current is not None and current >= 0 else sim.rep
            candidates = [
                i for i in rep.teammates if self.reps[i].hire_day * MINUTES_PER_DAY <= minute
            ]
            if not candidates:
                return
            target = self.reps[rng.choice(candidates)].user
            self.step(
                sim,
                "reassign",
                rep.manager_id or actor,
                minute,
                lambda: domain.reassign(opp, owner=target),
            )
        elif what == "amount":
            amount = Decimal(_round_amount(float(opp.amount) * math.exp(rng.gauss(0, 0.2))))
            self.step(
                sim,
                "change_amount",
                actor,
                minute,
                lambda: domain.change_amount(opp, amount=amount),
            )
        elif what == "probability":
            value = max(1, min(99, opp.probability + rng.choice((-20, -10, -5, 5, 10))))
            self.step(
                sim,
                "change_probability",
                actor,
                minute,
                lambda: domain.change_probability(opp, probability=value),
            )

    def slips(self, sim: _Life, until: int, lazy: bool) -> None:
        """Push the expected close date while it passes before ``until`` (the 20th-of-the-month
        syndrome: usually in the last days before the promised date)."""
        rng = self.rng
        opp = sim.opp
        until_day = until // MINUTES_PER_DAY
        spec = sim.pipe.spec
        for _ in range(12):
            ec_day = self.day_of(opp.expected_close)
            if ec_day >= until_day or lazy:
                return
            s_day = max(sim.minute // MINUTES_PER_DAY, ec_day - rng.randint(0, 8))
            minute = self.working_minute(s_day, sim.minute)
            if minute >= until or minute >= self.cutoff:
                return
            stage_index = next(i for i, s in enumerate(sim.pipe.open) if s.pk == opp.stage_id)
            remaining = sum(s.mean_days for s in spec.stages[stage_index:])
            new_day = max(
                s_day + 7, minute // MINUTES_PER_DAY + int(remaining * rng.uniform(0.3, 0.8))
            )
            new_date = self.start + dt.timedelta(days=new_day)
            if rng.random() < 0.4:
                new_date = self._month_end(new_date)
            self.step(
                sim,
                "change_expected_close",
                sim.owner_user(self).pk,
                minute,
                partial(domain.change_expected_close, opp, expected_close=new_date),
            )

    # -- activities --------------------------------------------------------------------------

    def activities(self, sim: _Life, acc: int) -> None:
        rng = self.rng
        b = self.batch
        opp = sim.opp
        spec = sim.pipe.spec
        style = sim.rep.style
        horizon = self.cutoff + 45 * MINUTES_PER_DAY
        planned_any = False
        account_id = self.acc_id[acc]

        def add(code: str, minute: int) -> None:
            nonlocal planned_any
            if minute >= horizon:
                return
            a = self.activity(code, minute, sim, account_id)
            if a["done_at"] is None:
                planned_any = True

        for idx, m_in, m_out, how in sim.stages:
            stage_spec = spec.stages[idx]
            end = (
                m_out
                if m_out is not None
                else m_in
                + int(
                    stage_spec.mean_days * style.duration * MINUTES_PER_DAY * rng.uniform(0.5, 1.5)
                )
            )
            end = max(end, m_in + 60)
            for codes, chance, when in stage_spec.activities:
                if when == "exit" and how not in ("forward", "won"):
                    continue
                if rng.random() >= chance * style.activity * 0.8:
                    continue
                code = codes[0] if len(codes) == 1 else rng.choice(codes)
                if when == "entry":
                    minute = m_in + rng.randint(30, 2 * MINUTES_PER_DAY)
                elif when == "exit":
                    minute = max(m_in + 10, end - rng.randint(60, 2 * MINUTES_PER_DAY))
                else:
                    minute = rng.randint(m_in, end)
                add(code, minute)
            extra = style.extra_meetings + 0.25
            while rng.random() < extra / (1 + extra):
                add(
                    rng.choice(("meeting", "meeting", "video_call", "customer_visit"))
                    if rng.random() < style.extra_meetings / (style.extra_meetings + 0.25)
                    else rng.choice(("call", "email")),
                    rng.randint(m_in, end),
                )
                extra *= 0.8
            if how == "won":
                code, chance = spec.won_activity
                if rng.random() < chance:
                    add(code, m_out - rng.randint(0, 120) if m_out else m_in)
        if opp.outcome == Outcome.OPEN and not planned_any:
            due = self.cutoff + rng.randint(-6, 20) * MINUTES_PER_DAY + rng.randint(420, 1020)
            add(rng.choice(("call", "task", "email", "meeting")), due)
        if rng.random() < 0.4:
            first, last = sim.stages[0][1], sim.stages[-1][2] or self.cutoff - 1
            author = (
                sim.owner_user(self).pk
                if rng.random() < 0.8
                else (sim.rep.manager_id or opp.owner_id)
            )
            comment = self.new_comment(
                account_id=account_id,
                opportunity_id=opp.pk,
                author_id=author,
                body=rng.choice(COMMENTS),
                created_at=self.at(min(self.cutoff - 1, rng.randint(first, max(first, last)))),
            )
            b.comments.append(comment)

    def activity(
        self,
        code: str,
        minute: int,
        sim: _Life | None,
        account_id: int,
        *,
        owner: User | None = None,
        contacts: Sequence[int] = (),
    ) -> dict[str, Any]:
        rng = self.rng
        b = self.batch
        kind = self.activity_types[code]
        low, high = self.durations[code]
        duration = rng.randint(low, high)
        if sim is not None:
            owner = sim.owner_at(self, minute)
            contacts = sim.contacts
        assert owner is not None
        minute = self.office(minute)
        starts = self.at(minute)
        ends = starts + dt.timedelta(minutes=duration)
        done = minute + duration < self.cutoff
        if done and minute > self.cutoff - 14 * MINUTES_PER_DAY and rng.random() < 0.12:
            done = False  # overdue: still open in the agenda
        created_minute = max(
            minute - rng.randint(0, 10 * MINUTES_PER_DAY),
            sim.stages[0][1] if sim is not None else minute - MINUTES_PER_DAY,
        )
        created_minute = min(created_minute, minute, self.cutoff - 1)
        created_at = self.at(created_minute)
        timed = code not in ("task", "lighting_data")
        assigned_by = None
        creator = owner.pk
        if sim is not None and rng.random() < 0.05 and sim.rep.manager_id:
            assigned_by = creator = sim.rep.manager_id
        self.next_activity_id += 1
        activity_id = self.next_activity_id
        activity = self.new_activity(
            id=activity_id,
            activity_type_id=kind.pk,
            subject=rng.choice(SUBJECTS[code]),
            account_id=account_id,
            opportunity_id=sim.opp.pk if sim is not None else None,
            owner_id=owner.pk,
            assigned_by_id=assigned_by,
            due_on=self.date_of(minute),
            starts_at=starts if timed else None,
            ends_at=ends if timed else None,
            done_at=ends if done else None,
            duration_minutes=duration if done else None,
            outcome=rng.choice(OUTCOMES[code]) if done else "",
            created_at=created_at,
            updated_at=ends if done else created_at,
            created_by_id=creator,
            updated_by_id=owner.pk,
        )
        b.activities.append(activity)
        if contacts and (kind.is_meeting or rng.random() < 0.6):
            b.activity_contacts.append((activity_id, contacts[rng.randrange(len(contacts))]))
        if kind.is_meeting:
            b.participants.append((activity_id, owner.pk))
            if sim is not None and rng.random() < 0.2 and sim.rep.manager_id:
                b.participants.append((activity_id, sim.rep.manager_id))
            if done and rng.random() < 0.4:
                activity["discussion"] = rng.choice(DISCUSSIONS).format(
                    old=rng.choice(OLD_LIGHTING),
                    area=rng.choice(PROJECT_TYPES).lower(),
                    contact="The customer",
                    competitor=rng.choice(COMPETITORS),
                    year=self.date_of(minute).year + 1,
                )
                sent = minute + rng.randint(60, 3 * MINUTES_PER_DAY)
                if rng.random() < 0.7 and sent < self.cutoff:
                    activity["minutes_sent_at"] = self.at(sent)
                for text in rng.sample(AGREEMENTS, rng.choice((1, 1, 1, 2, 3))):
                    due_day = minute // MINUTES_PER_DAY + rng.randint(3, 14)
                    on_customer = contacts and rng.random() < 0.4
                    agreement = self.new_agreement(
                        activity_id=activity_id,
                        text=text,
                        owner_id=None if on_customer else owner.pk,
                        owner_contact_id=contacts[0] if on_customer else None,
                        due_on=self.start + dt.timedelta(days=due_day),
                        done=due_day < HISTORY_DAYS and rng.random() < 0.85,
                    )
                    b.agreements.append(agreement)
        return activity

    def account_visits(self) -> None:
        """Every four months a visit to each Gold customer (an automation example of the seeds)."""
        rng = self.rng
        self.batch = _Batch()
        for acc in range(len(self.acc_id)):
            if self.acc_tier[acc] != 0:
                continue
            day = max(self.acc_day[acc], 0) + rng.randint(10, 120)
            owner_index = self.acc_owner[acc]
            owner = self.reps[owner_index]
            start = self.acc_contact_start[acc]
            contacts = list(self.contact_ids[start : start + self.acc_contact_n[acc]])
            while day < HISTORY_DAYS + 30:
                if day >= owner.hire_day:
                    self.activity(
                        "customer_visit",
                        self.working_minute(day),
                        None,
                        self.acc_id[acc],
                        owner=owner.user,
                        contacts=contacts,
                    )
                day += rng.randint(100, 140)
            if len(self.batch.activities) >= self.chunk_size:
                self.flush_account_activities()
        self.flush_account_activities()

    def flush_account_activities(self) -> None:
        b = self.batch
        with transaction.atomic():
            self.write_activities(b)
        self.counts["activities"] += len(b.activities)
        self.counts["agreements"] += len(b.agreements)
        self.batch = _Batch()

    def write_chunk(self, b: _Batch) -> None:
        """Insert one chunk (every pk was allocated while simulating)."""
        w = self.writer
        w.objects(Opportunity, b.opps, with_pk=True)
        w.objects(OpportunityEvent, b.events)
        w.links(Opportunity.products.through, ("opportunity_id", "productline_id"), b.products)
        w.links(Opportunity.contacts.through, ("opportunity_id", "contact_id"), b.contacts)
        self.write_activities(b)
        w.objects(Comment, b.comments)

    def write_activities(self, b: _Batch) -> None:
        w = self.writer
        w.objects(Activity, b.activities, with_pk=True)
        w.links(Activity.contacts.through, ("activity_id", "contact_id"), b.activity_contacts)
        w.links(Activity.participant_users.through, ("activity_id", "user_id"), b.participants)
        w.objects(Agreement, b.agreements)

    # -- finishing ---------------------------------------------------------------------------

    def finish(self) -> None:
        """Fresh statistics, then the account statuses that follow from the history."""
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":  # sampled statistics: seconds instead of minutes
                cursor.execute("PRAGMA analysis_limit = 1000")
            cursor.execute("ANALYZE")
        # Uncorrelated IN (subquery): computed once, whatever index the planner would pick
        # for a correlated EXISTS (account x deal work at a million opportunities).
        deals = Opportunity.objects.filter(account__isnull=False)
        won = deals.filter(outcome=Outcome.WON).values("account_id")
        won_recent = won.filter(closed_on__gte=self.end - dt.timedelta(days=540))
        late_open = deals.filter(outcome=Outcome.OPEN, stage__default_probability__gte=50).values(
            "account_id"
        )
        accounts = Account.objects.exclude(status=self.statuses["Competitor"])
        with transaction.atomic():
            accounts.filter(pk__in=won_recent).update(status=self.statuses["Customer"])
            accounts.filter(pk__in=won).exclude(pk__in=won_recent).update(
                status=self.statuses["Former customer"]
            )
            accounts.filter(pk__in=late_open).exclude(pk__in=won).update(
                status=self.statuses["Hot prospect"]
            )

    @staticmethod
    def reset_sequences() -> None:
        """Rows were written with pks allocated here: move the sequences past them."""
        models = [Account, Contact, AccountContact, Opportunity, Activity]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)

    def run(self) -> dict[str, int]:
        self.progress("reference data", 0, 1)
        with transaction.atomic():
            self.reference()
        self.rep_of_user = {r.user.pk: r.index for r in self.reps}
        self.rep_of_user[self.marketing.pk] = -1
        self.progress("reference data", 1, 1)
        try:
            self.generate_rows()
        finally:  # also after a failure: the application's own inserts must not collide
            self.reset_sequences()
        self.finish()
        self.progress("finishing", 1, 1)
        self.counts["users"] = len(self.users_by_name)
        self.counts["teams"] = len(TEAMS)
        self.counts["pipelines"] = len(self.pipes)
        return dict(self.counts)

    def generate_rows(self) -> None:
        self.accounts()
        self.next_activity_id = Activity.objects.aggregate(last=Max("id"))["last"] or 0
        self.acc_owner = array("b", [0]) * len(self.acc_id)
        for rep in self.reps:
            for acc in rep.accounts:
                self.acc_owner[acc] = rep.index
        self.opportunities()
        self.progress("finishing", 0, 1)
        self.account_visits()


@dataclass
class _Batch:
    opps: list[Opportunity] = field(default_factory=list)
    accounts: dict[int, Account] = field(default_factory=dict)
    events: list[OpportunityEvent] = field(default_factory=list)
    products: list[tuple[int, int]] = field(default_factory=list)  # opportunity id, product id
    contacts: list[tuple[int, int]] = field(default_factory=list)  # opportunity id, contact id
    activities: list[dict[str, Any]] = field(default_factory=list)  # rows (see Rows)
    activity_contacts: list[tuple[int, int]] = field(
        default_factory=list
    )  # activity id, contact id
    participants: list[tuple[int, int]] = field(default_factory=list)  # activity id, user id
    agreements: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Life:
    """One opportunity while it is being simulated."""

    opp: Opportunity
    pipe: PipeRef
    rep: Rep
    minute: int
    state: dict[str, Any]  # domain.snapshot(opp) as of the last step
    owners: list[tuple[int, int]]  # (from minute, rep index; -1 = marketing)
    stages: list[tuple[int, int, int | None, str]] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)

    def owner_user(self, gen: _Generator) -> User:
        index = self.owners[-1][1]
        return gen.marketing if index < 0 else gen.reps[index].user

    def owner_at(self, gen: _Generator, minute: int) -> User:
        index = self.owners[0][1]
        for since, rep_index in self.owners:
            if since <= minute:
                index = rep_index
        return gen.marketing if index < 0 else gen.reps[index].user


def generate(
    *,
    opportunities: int = 12000,
    seed: int = 42,
    end: dt.date | None = None,
    progress: ProgressFn | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, int]:
    """Seed the demo company into an empty database; returns the number of rows per kind.

    ``progress(phase, done, total)`` is called as the work advances. ``end`` (default: today)
    is the day the history ends: every event lies before it, planned activities after it.
    """
    if opportunities < 1:
        raise GeneratorError("opportunities must be at least 1.")
    if Opportunity.objects.exists() or User.objects.exists():
        raise GeneratorError(
            "The database is not empty: the demo company is seeded into an empty "
            "database only (flush it first)."
        )
    gen = _Generator(
        opportunities=opportunities,
        seed=seed,
        end=end or clock.today(),
        progress=progress,
        chunk_size=chunk_size,
    )
    with _bulk_mode():
        return gen.run()


@contextlib.contextmanager
def _bulk_mode() -> Any:
    """No cyclic garbage collection (collected per chunk instead) and no DEBUG query log.

    Both cost more than the inserts themselves when hundreds of thousands of unsaved rows are
    alive: the collector walks them again and again, the log formats every bulk statement.
    """
    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    gc.freeze()  # what exists now (Django, the app) is never garbage: keep it out of collections
    _tune(connection)
    try:
        if settings.DEBUG:
            with override_settings(DEBUG=False):
                yield
        else:
            yield
    finally:
        _tune(connection, synchronous="NORMAL")
        gc.unfreeze()
        if enabled:
            gc.enable()
