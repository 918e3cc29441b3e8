"""An inbound call's requests carry Twilio's geographic fields (FromCountry from
the caller's numbering plan, ToCountry from ours; city, state and postal code
empty as Twilio sends them for mobile numbers), and the service's form reader
takes them as they come."""

from __future__ import annotations

from ivr.sandbox.app import Sandbox
from ivr.sandbox.testkit import ServiceStub
from ivr.telephony.webhook_form import TwilioForm

CALLER = "+5511987650077"
SERVICE = "+14155550100"


async def test_inbound_call_requests_name_the_countries(
    sandbox: Sandbox, service: ServiceStub
) -> None:
    service.reply("/voice", "<Response><Hangup/></Response>")
    call = sandbox.start_inbound_call(from_=CALLER, to=SERVICE, url=service.url + "/voice")
    (req,) = await service.wait_for("/voice")
    await sandbox.wait_for_call_end(call.sid)
    p = req.params
    assert req.signature_valid
    assert (p["Direction"], p["From"], p["To"]) == ("inbound", CALLER, SERVICE)
    assert p["FromCountry"] == p["CallerCountry"] == "BR"
    assert p["ToCountry"] == p["CalledCountry"] == "US"
    for side in ("From", "To", "Caller", "Called"):
        for part in ("City", "State", "Zip"):
            assert p[f"{side}{part}"] == ""
    form = TwilioForm(p)
    assert form.phone_number("From") == CALLER and form.text("FromCountry") == "BR"
    assert form.text("FromCity") is None  # empty: not known, not an error
