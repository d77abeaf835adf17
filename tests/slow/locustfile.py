"""Mixed clinic traffic for `locust --headless` (tests/slow/test_load.py runs it):
visitors on the public site, patients sending questionnaires from their emailed
links, clinicians opening charts, and a registry searching the FHIR API.

KAPCARE_LOAD_WORLD names the JSON from tests.slow.load_world; on quitting, the
submissions that were answered as saved are written to KAPCARE_LOAD_SUBMITTED."""

import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, events, task
from locust.exception import StopUser

WORLD: dict[str, Any] = json.loads(
    open(os.environ["KAPCARE_LOAD_WORLD"]).read()  # noqa: PTH123, SIM115 - read once at import
)
LINKS: list[str] = list(WORLD["links"])
SUBMITTED: list[str] = []
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Visitor(HttpUser):
    weight = 3
    wait_time = between(0.05, 0.3)

    @task(3)
    def home(self) -> None:
        self.client.get("/")

    @task(2)
    def blog(self) -> None:
        self.client.get("/blog/")

    @task(1)
    def services(self) -> None:
        self.client.get("/services/")


class PatientWithALink(HttpUser):
    weight = 2
    wait_time = between(0.05, 0.3)

    @task
    def send_a_phq9(self) -> None:
        if not LINKS:
            raise StopUser
        path = LINKS.pop()
        with self.client.get(
            path, name="/measures/q/[token]/ (open)", catch_response=True
        ) as page:
            found = CSRF.search(page.text)
            if page.status_code != 200 or not found:
                page.failure(f"no form: {page.status_code}")
                return
        answers = {f"item_{n}": str(random.randint(0, 3)) for n in range(1, 9)}
        answers["item_9"] = "0"
        with self.client.post(
            path, {**answers, "csrfmiddlewaretoken": found.group(1)},
            name="/measures/q/[token]/ (send)", catch_response=True,
        ) as sent:  # fmt: skip
            if sent.status_code == 200 and "Thank you" in sent.text:
                SUBMITTED.append(path)
                sent.success()
            else:
                sent.failure(f"not saved: {sent.status_code}")


class Clinician(HttpUser):
    weight = 2
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.client.cookies.set(
            WORLD["session_cookie"], random.choice(WORLD["sessions"])
        )

    def _page(self, url: str, name: str, expect: str) -> None:
        """A signed-in page: a redirect (to sign-in) or a page without the expected
        text is a failure, not a success."""
        with self.client.get(
            url, name=name, allow_redirects=False, catch_response=True
        ) as page:
            if page.status_code != 200 or expect not in page.text:
                page.failure(f"{page.status_code}, {expect!r} not on the page")

    @task(2)
    def chart(self) -> None:
        patient = random.choice(WORLD["patients"])
        self._page(f"/patients/{patient}/", "/patients/[id]/", "MRN")

    @task(1)
    def measures(self) -> None:
        patient = random.choice(WORLD["patients"])
        self._page(
            f"/measures/patients/{patient}/",
            "/measures/patients/[id]/",
            "Questionnaires",
        )

    @task(1)
    def patient_list(self) -> None:
        self._page("/patients/", "/patients/", "Patients")


class Registry(HttpUser):
    weight = 1
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {WORLD['fhir_token']}"

    @task(1)
    def search_patients(self) -> None:
        self.client.get("/fhir/Patient", params={"_count": "20"}, name="/fhir/Patient")

    @task(1)
    def search_responses(self) -> None:
        patient = random.choice(WORLD["patients"])
        self.client.get(
            "/fhir/QuestionnaireResponse", params={"patient": patient},
            name="/fhir/QuestionnaireResponse?patient",
        )  # fmt: skip


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _write_submitted(**_: Any) -> None:
    target = os.environ.get("KAPCARE_LOAD_SUBMITTED")
    if target:
        with open(target, "w") as out:  # noqa: PTH123 - a plain file for the test
            json.dump(SUBMITTED, out)
