"""E-mails about the review's decisions; sent after commit like every Attest e-mail."""

from __future__ import annotations

from applications.notifications import send_application_mail


def notify_decision(*, decision) -> None:
    application = decision.application
    subjects = {
        "approve": f"Attest: application {application.reference} is approved",
        "reject": f"Attest: a decision on application {application.reference}",
        "request_changes": f"Attest: please update application {application.reference}",
    }
    send_application_mail(
        template=f"decision_{decision.kind}",
        subject=subjects[decision.kind],
        application=application,
        context={"decision": decision},
    )
