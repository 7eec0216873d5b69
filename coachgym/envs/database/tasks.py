"""The built-in database task suite: 122 original tasks over the `worlds` schemas.

Each template is a question (scored by the answer) or a change (scored by the final contents of
one table), with reference SQL written in the portable subset of SQL that SQLite, MariaDB and
PostgreSQL agree on (no backticks, no dialect functions, explicit tie-breaks). A template is
instantiated with two or three concrete rows of its world. Expected answers and expected tables are
computed once by running the reference SQL on SQLite; the test suite replays the same SQL on
MariaDB and PostgreSQL, so a template that is not portable fails there. Splits: 60/20/20.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from coachgym.envs.core import Task, TaskSuite
from coachgym.envs.database.backends.sqlite import SQLiteBackend
from coachgym.envs.database.schema import Table
from coachgym.envs.database.sqltext import sql_string
from coachgym.envs.database.worlds import WORLDS, world_tables

Params = Callable[[dict[str, Table]], list[dict[str, Any]]]


class Template(NamedTuple):
    world: str
    goal: str
    sql: str
    params: Params
    table: str | None = None  # set for change tasks: the table whose final contents are scored


def _column(tables: dict[str, Table], table: str, column: str) -> list[Any]:
    index = tables[table].column_names().index(column)
    return [row[index] for row in tables[table].rows]


def _pick(table: str, column: str, key: str, picks: tuple[int, ...] = (0, 3, 7)) -> Params:
    return lambda w: [{key: _column(w, table, column)[i]} for i in picks]


def _values(key: str, *values: Any) -> Params:
    return lambda w: [{key: v} for v in values]


def _months(*months: str) -> Params:
    """Month ranges as [first day, first day of the next month): '2024-11-31' is not a date."""
    return lambda w: [{"month": m, "next": f"{int(m) + 1:02d}"} for m in months]


TEMPLATES: list[Template] = [
    # ------------------------------------------------------------------ bookstore: questions
    Template("bookstore", "How many books written by {author} does the store list?",
             "SELECT COUNT(*) FROM books JOIN authors ON authors.id = books.author_id WHERE authors.name = {author!q}",
             _pick("authors", "name", "author")),
    Template("bookstore", "List the titles of all {genre} books that cost less than 30.",
             "SELECT title FROM books WHERE genre = {genre!q} AND price < 30", _values("genre", "Mystery", "History",
                                                                                      "Fantasy")),
    Template("bookstore", "What is the total value (quantity times unit price) of order {order}? Round to 2 decimals.",
             "SELECT ROUND(SUM(quantity * unit_price), 2) FROM order_items WHERE order_id = {order}",
             _values("order", 5, 17, 42)),
    Template("bookstore", "What is the average price of {genre} books, rounded to 2 decimals?",
             "SELECT ROUND(AVG(price), 2) FROM books WHERE genre = {genre!q}", _values("genre", "Science", "Poetry",
                                                                                      "Travel")),
    Template("bookstore", "Which customers from {city} have never placed an order? Give their names.",
             "SELECT name FROM customers WHERE city = {city!q} AND NOT EXISTS "
             "(SELECT 1 FROM orders WHERE orders.customer_id = customers.id)", _values("city", "Lyon", "Oslo",
                                                                                       "Toronto")),
    Template("bookstore", "Which customer placed the most orders with status '{status}'? If several tie, give the "
             "one with the smallest id. Answer with the name.",
             "SELECT customers.name FROM customers JOIN orders ON orders.customer_id = customers.id "
             "WHERE orders.status = {status!q} GROUP BY customers.id, customers.name "
             "ORDER BY COUNT(*) DESC, customers.id ASC LIMIT 1", _values("status", "shipped", "delivered", "pending")),
    Template("bookstore", "How many copies of books by authors from {country} are in stock in total?",
             "SELECT COALESCE(SUM(stock), 0) FROM books JOIN authors ON authors.id = books.author_id "
             "WHERE authors.country = {country!q}", _values("country", "Japan", "Norway", "France")),
    Template("bookstore", "What is the title of the most expensive book by {author}? (Ties: smallest book id.)",
             "SELECT books.title FROM books JOIN authors ON authors.id = books.author_id "
             "WHERE authors.name = {author!q} "
             "ORDER BY books.price DESC, books.id ASC LIMIT 1", _pick("authors", "name", "author", (1, 4, 8))),
    Template("bookstore", "How many orders were placed in month {month} of 2024?",
             "SELECT COUNT(*) FROM orders WHERE order_date >= '2024-{month}-01' AND order_date < '2024-{next}-01'",
             _months("03", "07", "11")),
    Template("bookstore", "How many copies of '{title}' have been ordered in total, over all orders?",
             "SELECT COALESCE(SUM(order_items.quantity), 0) FROM order_items "
             "JOIN books ON books.id = order_items.book_id "
             "WHERE books.title = {title!q}", _pick("books", "title", "title", (2, 9, 20))),
    Template("bookstore", "Which book titles in genre {genre} have never been ordered?",
             "SELECT title FROM books WHERE genre = {genre!q} AND id NOT IN (SELECT book_id FROM order_items)",
             _values("genre", "Mystery", "Fantasy")),
    # ------------------------------------------------------------------ bookstore: changes
    Template("bookstore", "Change the price of the book '{title}' to 19.99.",
             "UPDATE books SET price = 19.99 WHERE title = {title!q}", _pick("books", "title", "title", (0, 5, 11)),
             table="books"),
    Template("bookstore", "Mark order {order} as 'cancelled'.",
             "UPDATE orders SET status = 'cancelled' WHERE id = {order}",
             _values("order", 3, 29, 45), table="orders"),
    Template("bookstore", "Add 5 copies to the stock of every book written by {author}.",
             "UPDATE books SET stock = stock + 5 WHERE author_id = (SELECT id FROM authors WHERE name = {author!q})",
             _pick("authors", "name", "author", (2, 5, 9)), table="books"),
    Template("bookstore", "Register a new customer: id 31, name {name!q}, city {city!q}, joined on 2024-06-01.",
             "INSERT INTO customers (id, name, city, joined) VALUES (31, {name!q}, {city!q}, '2024-06-01')",
             lambda w: [{"name": "Lena Marsh", "city": "Oslo"}, {"name": "Omar Reyes", "city": "Austin"},
                        {"name": "Ivy Chen", "city": "Lyon"}], table="customers"),
    Template("bookstore", "Remove all items of order {order} from the order_items table.",
             "DELETE FROM order_items WHERE order_id = {order}", _values("order", 7, 33, 71), table="order_items"),
    # ------------------------------------------------------------------ clinic: questions
    Template("clinic", "How many appointments with status 'done' did {doctor} have?",
             "SELECT COUNT(*) FROM appointments JOIN doctors ON doctors.id = appointments.doctor_id "
             "WHERE doctors.name = {doctor!q} AND appointments.status = 'done'", _pick("doctors", "name", "doctor")),
    Template("clinic", "What is the total fee of all 'done' appointments in the {specialty} specialty? Round to 2 "
             "decimals.",
             "SELECT ROUND(SUM(fee), 2) FROM appointments JOIN doctors ON doctors.id = appointments.doctor_id "
             "WHERE doctors.specialty = {specialty!q} AND appointments.status = 'done'",
             _values("specialty", "Cardiology", "Neurology", "Pediatrics")),
    Template("clinic", "Which patients living in {city} were born before 1970? Give their names.",
             "SELECT name FROM patients WHERE city = {city!q} AND birth_year < 1970", _values("city", "Lisbon",
                                                                                            "Osaka", "Oslo")),
    Template("clinic", "Which doctors has the patient {patient} had appointments with? Give the doctors' names.",
             "SELECT DISTINCT doctors.name FROM doctors JOIN appointments ON appointments.doctor_id = doctors.id "
             "JOIN patients ON patients.id = appointments.patient_id WHERE patients.name = {patient!q}",
             _pick("patients", "name", "patient", (0, 5, 12))),
    Template("clinic", "Which patients born in {year} or later have no appointments at all? Give their names.",
             "SELECT name FROM patients WHERE NOT EXISTS (SELECT 1 FROM appointments WHERE "
             "appointments.patient_id = patients.id) AND birth_year >= {year}", _values("year", 1900, 1960, 1990)),
    Template("clinic", "Which doctor had the most appointments in month {month} of 2024 (any status)? "
             "Ties: smallest doctor id.",
             "SELECT doctors.name FROM doctors JOIN appointments ON appointments.doctor_id = doctors.id "
             "WHERE appointments.day >= '2024-{month}-01' AND appointments.day < '2024-{next}-01' "
             "GROUP BY doctors.id, doctors.name ORDER BY COUNT(*) DESC, doctors.id ASC LIMIT 1",
             _months("02", "06", "10")),
    Template("clinic", "What is the average fee of appointments with status '{status}'? Round to 2 decimals.",
             "SELECT ROUND(AVG(fee), 2) FROM appointments WHERE status = {status!q}",
             _values("status", "done", "missed", "booked")),
    Template("clinic", "How many distinct patients from {city} have seen a doctor (any appointment status)?",
             "SELECT COUNT(DISTINCT patients.id) FROM patients "
             "JOIN appointments ON appointments.patient_id = patients.id "
             "WHERE patients.city = {city!q}", _values("city", "Lisbon", "Austin", "Lyon")),
    # ------------------------------------------------------------------ clinic: changes
    Template("clinic", "Appointment {appointment} was missed: set its status to 'missed'.",
             "UPDATE appointments SET status = 'missed' WHERE id = {appointment}", _values("appointment", 4, 51, 88),
             table="appointments"),
    Template("clinic", "Add patient id 41, name {name!q}, born in {year}, living in Oslo.",
             "INSERT INTO patients (id, name, birth_year, city) VALUES (41, {name!q}, {year}, 'Oslo')",
             lambda w: [{"name": "Mira Holt", "year": 1988}, {"name": "Theo Varga", "year": 1972},
                        {"name": "Noor Saleh", "year": 2001}], table="patients"),
    Template("clinic", "Raise the fee of every 'booked' appointment of {doctor} by 10.",
             "UPDATE appointments SET fee = fee + 10 WHERE status = 'booked' AND doctor_id = "
             "(SELECT id FROM doctors WHERE name = {doctor!q})", _pick("doctors", "name", "doctor", (1, 4, 6)),
             table="appointments"),
    Template("clinic", "Delete all 'missed' appointments of the patient {patient}.",
             "DELETE FROM appointments WHERE status = 'missed' AND patient_id = "
             "(SELECT id FROM patients WHERE name = {patient!q})", _pick("patients", "name", "patient", (0, 12, 19)),
             table="appointments"),
    # ------------------------------------------------------------------ company: questions
    Template("company", "How many employees work in the {department} department?",
             "SELECT COUNT(*) FROM employees JOIN departments ON departments.id = employees.department_id "
             "WHERE departments.name = {department!q}", _values("department", "Engineering", "Finance", "Research")),
    Template("company", "What is the average salary in the {department} department, rounded to 2 decimals?",
             "SELECT ROUND(AVG(salary), 2) FROM employees JOIN departments ON departments.id = employees.department_id "
             "WHERE departments.name = {department!q}", _values("department", "Sales", "Support", "Marketing")),
    Template("company", "Who is the highest-paid employee with the title {title}? (Ties: smallest id.) Give the name.",
             "SELECT name FROM employees WHERE title = {title!q} ORDER BY salary DESC, id ASC LIMIT 1",
             _values("title", "Engineer", "Analyst", "Specialist")),
    Template("company", "How many hours in total are assigned to project '{project}'?",
             "SELECT COALESCE(SUM(hours), 0) FROM assignments JOIN projects ON projects.id = assignments.project_id "
             "WHERE projects.name = {project!q}", _pick("projects", "name", "project", (0, 4, 9))),
    Template("company", "Which employees work on project '{project}'? Give their names.",
             "SELECT employees.name FROM employees JOIN assignments ON assignments.employee_id = employees.id "
             "JOIN projects ON projects.id = assignments.project_id WHERE projects.name = {project!q}",
             _pick("projects", "name", "project", (1, 5, 10))),
    Template("company", "Which departments have {phrase} employees? Give their names.",
             "SELECT departments.name FROM departments JOIN employees ON employees.department_id = departments.id "
             "GROUP BY departments.id, departments.name HAVING COUNT(*) {condition}",
             lambda w: [{"phrase": "at least 8", "condition": ">= 8"}, {"phrase": "fewer than 8", "condition": "< 8"},
                        {"phrase": "more than 7", "condition": "> 7"}]),
    Template("company", "Who manages {employee}? Give the manager's name.",
             "SELECT boss.name FROM employees AS worker JOIN employees AS boss ON boss.id = worker.manager_id "
             "WHERE worker.name = {employee!q}", _pick("employees", "name", "employee", (10, 20, 30))),
    Template("company", "How many employees were hired on or after {date}?",
             "SELECT COUNT(*) FROM employees WHERE hired >= {date!q}", _values("date", "2015-01-01", "2019-06-30",
                                                                            "2022-01-01")),
    Template("company", "What is the total salary cost of employees based in {city} (the department's city)?",
             "SELECT COALESCE(SUM(employees.salary), 0) FROM employees JOIN departments ON "
             "departments.id = employees.department_id WHERE departments.city = {city!q}",
             _values("city", "Lisbon", "Nairobi", "Toronto")),
    # ------------------------------------------------------------------ company: changes
    Template("company", "Give every employee of the {department} department a 10% raise.",
             "UPDATE employees SET salary = salary * 1.1 WHERE department_id = "
             "(SELECT id FROM departments WHERE name = {department!q})", _values("department", "Engineering", "Sales",
                                                                                "Research"), table="employees"),
    Template("company", "Assign employee {employee} to project {project} for 12 hours (add an assignment).",
             "INSERT INTO assignments (employee_id, project_id, hours) VALUES ({employee}, {project}, 12)",
             lambda w: [{"employee": 44, "project": 3}, {"employee": 2, "project": 11}, {"employee": 19, "project": 7}],
             table="assignments"),
    Template("company", "Project '{project}' was cancelled: delete all of its assignments.",
             "DELETE FROM assignments WHERE project_id = (SELECT id FROM projects WHERE name = {project!q})",
             _pick("projects", "name", "project", (2, 6, 11)), table="assignments"),
    Template("company", "Change the title of {employee} to 'Manager'.",
             "UPDATE employees SET title = 'Manager' WHERE name = {employee!q}",
             _pick("employees", "name", "employee", (13, 26, 40)), table="employees"),
]


def render(text: str, params: dict[str, Any]) -> str:
    """Fill `{key}` with the value and `{key!q}` with the value as an SQL string literal."""
    for key, value in params.items():
        text = text.replace("{" + key + "!q}", sql_string(str(value))).replace("{" + key + "}", str(value))
    return text


def _reference(world: str, sql: str, table: str | None) -> dict[str, Any]:
    """The evaluator spec for one task, by running its reference SQL on a fresh SQLite world."""
    backend = SQLiteBackend(memory=True)
    try:
        backend.create(world_tables(world))
        before = backend.read_table(table) if table else []
        result = backend.execute(sql)
        if table is None:
            expected = [cell for row in result.rows for cell in row]
            if not expected or expected == [None]:
                raise ValueError(f"Reference SQL gives an empty answer, which any agent could guess: {sql}")
            return {"kind": "answer", "expected": expected}
        rows = backend.read_table(table)
        if sorted(map(repr, rows)) == sorted(map(repr, before)):
            raise ValueError(f"Reference SQL leaves {table} unchanged, so doing nothing would pass: {sql}")
        return {"kind": "table", "table": table, "expected_rows": [list(r) for r in rows]}
    finally:
        backend.close()


@lru_cache(maxsize=1)
def builtin_suite() -> TaskSuite:
    """All templates x 3 instances; split by instance position (train/dev/test = 60/20/20)."""
    tasks = []
    for number, template in enumerate(TEMPLATES):
        tables = {t.name: t for t in world_tables(template.world)}
        for instance, params in enumerate(template.params(tables)):
            sql = render(template.sql, params)
            index = len(tasks)
            tasks.append(Task(
                id=f"database-{template.world}-{number:02d}-{instance}",
                env="database",
                goal=render(template.goal, params),
                setup={"world": template.world, "solution_sql": [sql]},
                evaluator=_reference(template.world, sql, template.table),
                split=("train", "train", "train", "dev", "test")[index % 5],
                tags=[template.world, "change" if template.table else "question"],
            ))
    return TaskSuite(name="database", env="database", tasks=tasks, reference_score=1.0,
                     description=f"Questions and changes over {len(WORLDS)} realistic schemas (joins, aggregates, "
                     "updates, inserts, deletes).")
