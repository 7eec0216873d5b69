"""The built-in worlds: three small, realistic schemas with generated but fixed data.

`bookstore` (authors, books, customers, orders, order_items), `clinic` (doctors, patients,
appointments) and `company` (departments, employees, projects, assignments). Data come from a
seeded generator, so every install builds identical tables and tasks can refer to concrete rows.
Names are plain ASCII and values avoid ties where questions ask for "the most", so the same SQL
gives the same answer under SQLite, MariaDB and PostgreSQL collations. No database access here.
"""

from __future__ import annotations

import random
from functools import lru_cache

from coachgym.envs.database.schema import Column, ColumnType, Table

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Leo", "Maya",
         "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yara", "Zane"]
LAST = ["Abbott", "Baker", "Castro", "Dunn", "Ekwueme", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen",
        "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rossi", "Silva", "Tanaka"]
CITIES = ["Lisbon", "Oslo", "Nairobi", "Osaka", "Toronto", "Lyon", "Austin", "Krakow"]
COUNTRIES = ["Portugal", "Norway", "Kenya", "Japan", "Canada", "France", "USA", "Poland"]
GENRES = ["Mystery", "Science", "History", "Fantasy", "Poetry", "Travel"]
WORDS = ["Silent", "River", "Glass", "Northern", "Garden", "Iron", "Paper", "Hidden", "Winter", "Golden", "Last",
         "Salt", "Lantern", "Orchard", "Signal", "Harbor", "Atlas", "Ember", "Meadow", "Clockwork"]
SPECIALTIES = ["Cardiology", "Dermatology", "Pediatrics", "Neurology", "Orthopedics"]
DEPARTMENTS = ["Engineering", "Sales", "Finance", "Support", "Research", "Marketing"]
TITLES = ["Engineer", "Analyst", "Manager", "Specialist", "Director"]


def _table(name: str, columns: list[tuple[str, ColumnType]], rows: list[list]) -> Table:
    cols = [Column(name=n, type=t, primary_key=(i == 0 and n == "id")) for i, (n, t) in enumerate(columns)]
    return Table(name=name, columns=cols, rows=rows)


def _people(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name not in names:
            names.append(name)
    return names


def _date(rng: random.Random, year_low: int, year_high: int) -> str:
    return f"{rng.randint(year_low, year_high)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _money(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def bookstore() -> list[Table]:
    rng = random.Random(101)
    authors = [[i + 1, name, rng.choice(COUNTRIES), rng.randint(1940, 1995)] for i, name in enumerate(_people(rng, 12))]
    titles: list[str] = []
    while len(titles) < 40:
        title = f"The {rng.choice(WORDS)} {rng.choice(WORDS)}"
        if title not in titles and len(set(title.split())) == 3:
            titles.append(title)
    books = [[i + 1, title, rng.randint(1, 12), rng.choice(GENRES), _money(rng, 6, 48), _date(rng, 2005, 2023),
              rng.randint(0, 60)] for i, title in enumerate(titles)]
    customers = [[i + 1, name, rng.choice(CITIES), _date(rng, 2019, 2023)] for i, name in enumerate(_people(rng, 30))]
    orders, items = [], []
    for order_id in range(1, 81):
        orders.append([order_id, rng.randint(1, 26), _date(rng, 2024, 2024),
                       rng.choice(["shipped", "shipped", "delivered", "pending", "cancelled"])])
        for book_id in rng.sample(range(1, 37), rng.randint(1, 3)):
            items.append([order_id, book_id, rng.randint(1, 4), books[book_id - 1][4]])
    return [
        _table("authors", [("id", "int"), ("name", "text"), ("country", "text"), ("birth_year", "int")], authors),
        _table("books", [("id", "int"), ("title", "text"), ("author_id", "int"), ("genre", "text"),
                         ("price", "decimal"), ("published", "date"), ("stock", "int")], books),
        _table("customers", [("id", "int"), ("name", "text"), ("city", "text"), ("joined", "date")], customers),
        _table("orders", [("id", "int"), ("customer_id", "int"), ("order_date", "date"), ("status", "text")], orders),
        _table("order_items", [("order_id", "int"), ("book_id", "int"), ("quantity", "int"),
                               ("unit_price", "decimal")], items),
    ]


def clinic() -> list[Table]:
    rng = random.Random(202)
    doctors = [[i + 1, f"Dr. {name}", SPECIALTIES[i % len(SPECIALTIES)], _date(rng, 2008, 2022)]
               for i, name in enumerate(_people(rng, 10))]
    patients = [[i + 1, name, rng.randint(1940, 2015), rng.choice(CITIES)] for i, name in enumerate(_people(rng, 40))]
    appointments = [[i + 1, rng.randint(1, 38), rng.randint(1, 10), _date(rng, 2024, 2024), _money(rng, 40, 260),
                     rng.choice(["done", "done", "done", "missed", "booked"])] for i in range(120)]
    return [
        _table("doctors", [("id", "int"), ("name", "text"), ("specialty", "text"), ("hired", "date")], doctors),
        _table("patients", [("id", "int"), ("name", "text"), ("birth_year", "int"), ("city", "text")], patients),
        _table("appointments", [("id", "int"), ("patient_id", "int"), ("doctor_id", "int"), ("day", "date"),
                                ("fee", "decimal"), ("status", "text")], appointments),
    ]


def company() -> list[Table]:
    rng = random.Random(303)
    departments = [[i + 1, name, CITIES[i], rng.randint(20, 90) * 10000] for i, name in enumerate(DEPARTMENTS)]
    employees = []
    for i, name in enumerate(_people(rng, 45)):
        department = i % len(DEPARTMENTS) + 1
        manager = None if i < len(DEPARTMENTS) else department  # the first of each department manages it
        title = "Director" if manager is None else rng.choice(TITLES[:4])
        employees.append([i + 1, name, department, title, float(rng.randint(380, 1600) * 100), _date(rng, 2010, 2024),
                          manager])
    projects = [[i + 1, f"Project {word}", rng.randint(1, 6), _date(rng, 2022, 2024), float(rng.randint(5, 80) * 1000)]
                for i, word in enumerate(rng.sample(WORDS, 12))]
    assignments = []
    for project_id in range(1, 13):
        for employee_id in rng.sample(range(1, 46), rng.randint(2, 6)):
            assignments.append([employee_id, project_id, rng.randint(4, 40)])
    return [
        _table("departments", [("id", "int"), ("name", "text"), ("city", "text"), ("budget", "int")], departments),
        _table("employees", [("id", "int"), ("name", "text"), ("department_id", "int"), ("title", "text"),
                             ("salary", "decimal"), ("hired", "date"), ("manager_id", "int")], employees),
        _table("projects", [("id", "int"), ("name", "text"), ("department_id", "int"), ("start_date", "date"),
                            ("budget", "decimal")], projects),
        _table("assignments", [("employee_id", "int"), ("project_id", "int"), ("hours", "int")], assignments),
    ]


WORLDS = {"bookstore": bookstore, "clinic": clinic, "company": company}


@lru_cache(maxsize=None)
def _cached(name: str) -> tuple[Table, ...]:
    if name not in WORLDS:
        raise KeyError(f"Unknown database world {name!r}; known: {', '.join(WORLDS)}.")
    return tuple(WORLDS[name]())


def world_tables(name: str) -> list[Table]:
    """A world's tables (shared, cached objects: read them, never mutate them)."""
    return list(_cached(name))
