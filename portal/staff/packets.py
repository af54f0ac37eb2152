"""The completed packet: staff download it sealed; anyone may verify a packet on its page or with
`flask --app wsgi packet verify FILE.pdf`. Both say the same thing, from `examine`."""

import hashlib
from pathlib import Path

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    render_template,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from portal.auth import staff_only
from portal.config import ConfigError
from portal.models import PortRequest, utcnow
from portal.port_requests.blueprint import MAX_ID
from portal.staff import packet
from signing import seal

bp = Blueprint("packets", __name__, cli_group="packet")


class VerifyForm(FlaskForm):
    packet = FileField("The PDF to verify")


@bp.record_once
def _check_configured_seal(state):
    """Refuse to start with a configured seal that cannot be used, rather than at its first use."""
    config = state.app.config
    if config.get("SEAL_KEY_PATH") or config.get("SEAL_CERT_PATH"):
        try:
            seal.of_config(config, state.app.instance_path)
        except seal.SealError as error:
            raise ConfigError(f"the seal cannot be used: {error}") from None


def identity():
    """Return this deployment's seal (generated into the instance folder the first time)."""
    return seal.of_config(current_app.config, current_app.instance_path)


def examine(data):
    """Return (the seal's verdict, the packet's evidence or None) for a PDF's bytes."""
    verdict = seal.verify(data, identity())
    return verdict, packet.evidence_of(data) if verdict.sealed else None


@bp.get("/staff/requests/<int:request_id>/packet")
@staff_only
def download(request_id):
    port_request = None
    if request_id <= MAX_ID:
        port_request = PortRequest.get_or_none(PortRequest.id == request_id)
    # A draft is the owner's still: it is not in Carrier Relations' hands, nor in the console.
    if port_request is None or port_request.status == "draft":
        abort(404)
    built_at = utcnow()
    try:
        unsealed = packet.build(
            port_request, new_carrier=current_app.config["PORTING_CARRIER"], built_at=built_at
        )
    except packet.PacketBlocked as blocked:
        current_app.logger.error("Packet of request %s not built: %s", request_id, blocked)
        html = render_template("packets/blocked.html", port_request=port_request, reason=blocked)
        return make_response(html, 409)
    response = make_response(seal.seal(unsealed, identity(), reason=packet.REASON))
    response.mimetype = "application/pdf"
    name = f"packet-{request_id}-{built_at:%Y%m%d-%H%M%S}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/packets/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        upload = form.packet.data
        data = upload.read() if upload else b""
        if not data:
            form.packet.errors.append("Choose the PDF to verify: a packet or a signed LOA.")
        else:
            verdict, evidence = examine(data)
            result = {
                "verdict": verdict,
                "evidence": evidence,
                "name": upload.filename or "the file",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
    return render_template(
        "packets/verify.html", form=form, result=result, seal_identity=identity()
    )


@bp.get("/packets/seal.pem")
def certificate():
    response = make_response(identity().certificate_pem)
    response.mimetype = "application/x-pem-file"
    response.headers["Content-Disposition"] = 'attachment; filename="portdesk-seal.pem"'
    return response


@bp.cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(path):
    """Say whether FILE is a PDF sealed by this deployment and unchanged; list its parts."""
    verdict, evidence = examine(path.read_bytes())
    if not verdict.sealed:
        click.echo(f"{path}: NOT VERIFIED. {verdict.problem}")
        raise SystemExit(1)
    when = f" on {verdict.sealed_at:%Y-%m-%d %H:%M} UTC" if verdict.sealed_at else ""
    click.echo(
        f"{path}: verified. Sealed by this PortDesk ({verdict.reason}){when}, unchanged since."
    )
    if evidence is None:
        return
    request_ = evidence["port_request"]
    click.echo(
        f"Port request {request_['id']} of {request_['account']['name']} "
        f"(account {request_['account']['id']}), built {evidence['built_at']}:"
    )
    for part in evidence["parts"]:
        last = part["first_page"] + part["pages"] - 1
        click.echo(
            f"  {part['title']}, pages {part['first_page']}-{last}: SHA-256 {part['sha256']}"
        )
