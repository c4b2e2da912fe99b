"""Schemathesis against the app's own OpenAPI schema, logged in as the administrator: requests
generated from every declared operation, valid and invalid, must never get a 5xx.

Deterministic (derandomized, no example database) and bounded: a fixed number of examples per
engine, each request a few milliseconds, no request waiting on anything external."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.helpers import Api

EXAMPLES = 300  # per engine; about 20 s each here
# Ending the login or changing the password would end the run's authentication; deletes would
# remove the website the analytics routes are pointed at.
EXCLUDED = {"path_regex": r"^/api/(auth/logout|me/password)$"}


@pytest.fixture(scope="module")
def target(module_client):
    admin = Api(module_client).admin()
    website = admin.new_website(domain="schemathesis.example")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", module_client.app)
    return schema.exclude(**EXCLUDED).exclude(method="DELETE"), admin, website["id"]


def test_no_server_errors(target):
    schema, admin, website_id = target
    # The real website for `website_id` (and links' and pixels' `entity_id`), so analytics
    # routes get past the lookup to their parameters; other ids are generated.
    known = {"website_id": website_id}
    cases = st.one_of(
        schema.as_strategy(schemathesis.GenerationMode.POSITIVE, path_parameters=known),
        schema.as_strategy(schemathesis.GenerationMode.NEGATIVE, path_parameters=known),
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(cases)
    def run(case):
        response = case.call(headers=admin.headers)
        case.validate_response(response, checks=[not_a_server_error])

    run()
