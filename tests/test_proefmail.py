"""`manage.py proefmail ADRES`: one test message with config/email.yaml's settings, against
the real SMTP server of the tests (STARTTLS, login); what goes wrong is said in Dutch, with
the email exit status, and every try is audited."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from mailserver import PASSWORD_ENV
from test_web import data, mail_server  # noqa: F401

from leafletpress.web.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_test_message_goes_out_with_the_patients_settings_and_no_patient_data(smtp) -> None:
    out = io.StringIO()
    call_command("proefmail", "ict@zas.be", stdout=out)
    assert out.getvalue().startswith("Verstuurd; de mailserver antwoordde: 250")
    (message,) = smtp.mailbox.received
    text = message.get_body().get_content()
    assert message["Subject"] == "[TEST] leafletpress: de e-mailinstellingen werken"
    assert "starttls, aangemeld als" in text and "geen gegevens van patiënten" in text
    assert AuditEvent.objects.filter(action="proefmail").count() == 1


@pytest.mark.parametrize(
    ("change", "address", "code", "said"),
    [
        ("password", "ict@zas.be", 5, "weigert de aanmelding"),
        ("sender", "ict@zas.be", 5, "het testbericht kon niet verstuurd worden"),
        ("", "jörg@zäs.be", 5, "de mailserver kent geen SMTPUTF8"),  # this server: said so
        ("", "ict(at)zas.be", 2, r"'ict\(at\)zas.be' is geen geldig e-mailadres"),
    ],
    ids=["wrong password", "sender refused", "an address in Unicode", "not an address"],
)
def test_what_goes_wrong_is_said_with_the_email_exit_status(
    smtp, monkeypatch, change: str, address: str, code: int, said: str
) -> None:
    if change == "password":
        monkeypatch.setenv(PASSWORD_ENV, "een-ander-wachtwoord")
    if change == "sender":
        smtp.mailbox.refuse_sender = "550 5.7.1 afzender niet toegelaten"
    with pytest.raises(CommandError, match=said) as refused:  # a regular expression
        call_command("proefmail", address, stdout=io.StringIO())
    assert refused.value.returncode == code
    assert smtp.mailbox.received == []
    assert AuditEvent.objects.filter(action="proefmail mislukt").count() == 1
