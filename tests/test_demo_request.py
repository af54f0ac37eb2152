"""The demo's submitted port request: filed once through the owner's own functions, with a bill
the comparison finds no fault in, an LOA signed by its representative, and its numbers claimed."""

from portal.demo import DEMO_OWNER_EMAIL
from portal.demo_request import NAME, NUMBERS
from portal.models import Document, NumberClaim, PortRequest, RequestEvent, utcnow
from portal.numbers import classify
from portal.port_requests.review import review


def _demo_requests(app):
    with app.app_context():
        return list(PortRequest.select().where(PortRequest.account == 4242))


def test_seed_demo_files_one_submitted_request_with_its_papers(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    (port_request,) = _demo_requests(app)
    with app.app_context():
        assert port_request.status == "submitted"
        assert port_request.fields["friendly_name"] == NAME
        assert port_request.created_by.email == DEMO_OWNER_EMAIL
        claimed = {claim.number for claim in NumberClaim.select()}
        assert claimed == {classify(number).e164 for number, *_ in NUMBERS}
        kinds = sorted(
            d.kind for d in Document.select().where(Document.port_request == port_request)
        )
        assert kinds == ["bill", "signed_loa"]
        found = review(port_request, today=utcnow().date(), lead_business_days=7)
        assert found.problems == []
        kinds = [event.kind for event in RequestEvent.of_request(port_request)]
        assert kinds == ["created", "loa_signed", "submitted"]


def test_seed_demo_again_files_no_second_request(app, runner):
    runner.invoke(args=["seed-demo"])
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert len(_demo_requests(app)) == 1
