"""Fifty owners submitting one number at the same moment, through gunicorn (2 workers x 4
threads, CSRF on, as deployed) on the suite's database (SQLite or PostgreSQL): fifty drafts over
ten accounts, five owners each, all holding (614) 322-1001 and two numbers of their own; each
owner signed in with a session and a connection of their own; a barrier releases every submit
at once. One request is submitted and holds all its numbers; the other 49 stay drafts holding
nothing, and each owner is told which number is taken."""

import re

import pytest

from bench import load
from bench.serving import gunicorn
from portal.models import NumberClaim, OutboxEmail, PortNumber, PortRequest, RequestEvent

SHARED_E164 = "+16143221001"


@pytest.fixture
def racers(app):
    return load.seed_race(app)


@pytest.fixture
def served(database_url, tmp_path, racers):
    log = tmp_path / "gunicorn.log"
    with gunicorn(database_url, tmp_path / "gunicorn", log) as address:
        yield address
    print(log.read_text(errors="replace"))  # shown when a test fails


def e164(typed):
    return "+1" + re.sub(r"\D", "", typed)


def test_fifty_owners_submitting_one_number_at_once_one_wins_and_the_others_are_told(
    app, served, racers
):
    assert len(racers) == 50
    assert len({racer.email for racer in racers}) == 50
    with app.app_context():
        accounts = {PortRequest.get_by_id(racer.request_id).account_id for racer in racers}
    assert len(accounts) == 10

    answers = load.race(served, racers)

    assert [status for status, _, _ in answers].count(500) == 0, answers
    won = [i for i, (status, _, _) in enumerate(answers) if status == 302]
    assert len(won) == 1, [answer[:2] for answer in answers]
    winner = racers[won[0]]
    assert answers[won[0]][1].endswith(f"/port-requests/{winner.request_id}")
    losers = [racer for i, racer in enumerate(racers) if i != won[0]]
    for i, (status, _, text) in enumerate(answers):
        if i == won[0]:
            continue
        assert status == 409, text[:500]
        # The owner reads which number is taken, and only that one.
        assert load.TAKEN_MESSAGE in text
        for own in racers[i].numbers[1:]:
            assert own not in text.split("Nothing was submitted:")[1].split(".")[0]

    with app.app_context():
        statuses = {r.request_id: PortRequest.get_by_id(r.request_id).status for r in racers}
        claims = [(claim.number, claim.port_request_id) for claim in NumberClaim.select()]
        submits = list(RequestEvent.select().where(RequestEvent.kind == "submitted"))
        losers_numbers = (
            PortNumber.select()
            .where(PortNumber.port_request.in_([racer.request_id for racer in losers]))
            .where(PortNumber.status.is_null(False))
            .count()
        )
        emails = OutboxEmail.select().count()
        loser_events = {
            racer.request_id: [event.kind for event in RequestEvent.of_request(racer.request_id)]
            for racer in losers
        }
    assert statuses[winner.request_id] == "submitted"
    assert sorted(statuses.values()) == ["draft"] * 49 + ["submitted"]
    assert sorted(claims) == sorted((e164(n), winner.request_id) for n in winner.numbers)
    assert (SHARED_E164, winner.request_id) in claims
    assert [event.port_request_id for event in submits] == [winner.request_id]
    assert losers_numbers == 0
    assert emails == 1  # the winner's owner is emailed, no one else
    for kinds in loser_events.values():
        assert "submitted" not in kinds

    # What each loser's owner sees: their request is a draft, its timeline has no submit.
    for n, racer in enumerate(racers):
        if n == won[0]:
            continue
        client, _ = load.sign_in(served, racer.email, page="/port-requests/")
        status, _, page = client.request("GET", f"/port-requests/{racer.request_id}")
        client.close()
        text = load.visible_text(page)
        assert status == 200
        assert f"Race lines {n} Status: Draft" in text
        assert "Submitted the request" not in text
