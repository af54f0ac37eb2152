"""Every form's POST, fuzzed (hypothesis): each route of `app.url_map` that takes a POST gets forms
of hostile text (NULs, control and format characters, formula starts, 20,000-character values,
names no form has, repeated keys) from the owner of A, the owner of B and staff, on A's things.
Nothing answers 500 (the app under test raises what would be one). `FUZZ_EXAMPLES=300` hunts
longer with a random seed; CI runs 25 examples with a fixed one, plus three forms always tried."""

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.test_access_table import clients, kind_of, url_for_rule, world  # noqa: F401

# Text a hostile client sends: anything printable, and the characters that break things.
NASTY = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["\x00", "\r", "\n", "\u202e", "\u200b", "\ufeff", "=", "+", "'", '"']),
    ),
    max_size=60,
)
VALUES = st.one_of(NASTY, st.just("x" * 20_000), st.sampled_from(["", "0", "-1", "2027-02-30"]))
# The names the app's forms use, and some it does not: each example fills every one.
NAMES = (
    [
        "friendly_name", "shown", "codes", "note", "reason", "foc_date", "window", "body",
        "internal", "agreements", "numbers", "remove", "typed", "field", "code", "message",
        "back", "email", "password", "name", "url", "representative", "consent", "typed_name",
        "signature_png", "statement_date", "billing.account_number", "service_address.zip",
        "requested_date", "routing_id", "page", "q", "csrf_token", "\x00", "a" * 300,
    ]
)  # fmt: skip
FORMS = st.tuples(
    st.fixed_dictionaries({name: VALUES for name in NAMES}),
    st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=4),  # repeated keys
).map(lambda parts: [*parts[0].items(), *parts[1]])
# Routes a fuzzed form must not run: signing out ends the session the next examples use.
SKIPPED = {"auth.logout", "static"}


def post_rules(app):
    return [
        rule
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
        if "POST" in rule.methods and rule.endpoint not in SKIPPED and kind_of(rule.endpoint)
    ]


@pytest.fixture
def fuzzing(app, world):  # noqa: F811  (the fixture of test_access_table)
    app.config["WTF_CSRF_ENABLED"] = False
    return app, world, clients(app)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(form=FORMS)
# Always tried, whatever the seed draws: every field a NUL inside text, a bidi override, or long.
@example(form=[(name, "a\x00b") for name in NAMES])
@example(form=[(name, "\u202egnp.exe") for name in NAMES])
@example(form=[(name, "x" * 20_000) for name in NAMES])
def test_no_form_post_answers_500(fuzzing, form):
    app, things, asking = fuzzing
    for who in ("owner A", "owner B", "staff"):
        for rule in post_rules(app):
            path = url_for_rule(rule, things)
            # Signing in (or resetting) as someone else would end the session the next rows use.
            public = kind_of(rule.endpoint) == "public"
            sender = asking["visitor"] if public else asking[who]
            # The app under test propagates an exception (a 500 in production) to here.
            with sender.post(path, data=MultiDict(form)) as answer:
                assert answer.status_code < 500, f"POST {path} as {who} with {form!r}"
