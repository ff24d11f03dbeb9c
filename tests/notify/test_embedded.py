"""Notifications in embedded mode: the flow's own process evaluates the automations
when its run ends and delivers from a background thread, to a real SMTP server and
a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import logging

import pytest
from tests.notify.conftest import Receiver, SmtpServer, wait_for

from cadenza import flow, task
from cadenza.notify import (
    EmailChannel,
    WebhookChannel,
    create_automation,
    create_channel,
    delivery_attempts,
    delivery_history,
    flush,
    notify,
)


def email_channel(smtp: SmtpServer, name: str = "ops-email") -> None:
    create_channel(
        EmailChannel(
            name,
            host="127.0.0.1",
            port=smtp.port,
            security="none",
            from_address="cadenza@example.com",
            to=["ops@example.com", "oncall@example.com"],
        )
    )


def test_a_failing_flow_sends_one_email_with_the_error(smtp: SmtpServer) -> None:
    email_channel(smtp)
    create_automation("failures", states=["Failed", "Crashed"], channels=["ops-email"])

    @flow(name="nightly-etl")
    def nightly_etl() -> None:
        raise ValueError("the warehouse refused the load: quota exceeded")

    with pytest.raises(ValueError):
        nightly_etl()
    assert flush(20)
    assert len(smtp.mailbox.messages) == 1
    mail = smtp.mailbox.messages[0]
    assert mail["Subject"].startswith("[cadenza] nightly-etl / ")
    assert mail["Subject"].endswith(": Failed")
    assert mail["To"] == "ops@example.com, oncall@example.com"
    assert sorted(smtp.mailbox.envelopes[0].rcpt_tos) == ["oncall@example.com", "ops@example.com"]
    body = smtp.mailbox.bodies()[0]
    assert "Error: ValueError: the warehouse refused the load: quota exceeded" in body
    assert "of flow 'nightly-etl' failed." in body
    (message,) = delivery_history()
    assert (message.status, message.attempts, message.automation_name) == ("sent", 1, "failures")

    # A run that completes sends nothing: the automation reacts to failures only.
    flow(name="nightly-etl")(lambda: None)()
    assert flush(20)
    assert len(smtp.mailbox.messages) == 1


def test_a_recovery_sends_one_email(smtp: SmtpServer) -> None:
    email_channel(smtp)
    create_automation(
        "etl-health", states=["Failed", "Recovered"], channels=["ops-email"], flows=["etl"]
    )
    outcome = {"fail": True}

    @flow(name="etl")
    def etl() -> str:
        if outcome["fail"]:
            raise RuntimeError("source unavailable")
        return "ok"

    etl(return_state=True)
    assert flush(20)
    outcome["fail"] = False
    assert etl() == "ok"
    assert flush(20)
    assert etl() == "ok"  # a second success is no recovery
    assert flush(20)
    subjects = [m["Subject"] for m in smtp.mailbox.messages]
    assert len(subjects) == 2
    assert subjects[0].endswith(": Failed")
    assert subjects[1].endswith(": Recovered")
    assert "recovered: it completed after a failure" in smtp.mailbox.bodies()[1]


def test_automation_filters_and_disabled_automations(smtp: SmtpServer) -> None:
    email_channel(smtp)
    create_automation("tagged", states="Completed", channels="ops-email", tags=["prod"])
    create_automation("off", states="Completed", channels="ops-email", enabled=False)

    @flow(name="report", tags=["dev"])
    def report() -> None:
        pass

    report()
    report.with_options(tags=["prod", "nightly"])()
    assert flush(20)
    assert len(smtp.mailbox.messages) == 1
    assert [m.automation_name for m in delivery_history()] == ["tagged"]


def test_a_channel_that_is_down_is_retried_logged_and_delivered(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fail_first = 3
    create_channel(WebhookChannel("hook", url=receiver.url, signing_secret="s3cret-signing-key"))
    create_automation("to-hook", states="Failed", channels="hook")

    @flow
    def fragile() -> None:
        raise KeyError("missing column")

    with caplog.at_level(logging.INFO):
        fragile(return_state=True)
        assert flush(20)
    assert [r["answered"] for r in receiver.requests] == [503, 503, 503, 200]
    (message,) = delivery_history()
    assert (message.status, message.attempts) == ("sent", 4)
    attempts = delivery_attempts(message.id)
    assert [a.ok for a in attempts] == [False, False, False, True]
    assert attempts[0].error == "the webhook answered 503: ok"
    failures = [r for r in caplog.records if r.name == "cadenza.notify"]
    assert len(failures) == 3
    assert "failed (attempt 1 of 8): the webhook answered 503" in failures[0].getMessage()
    # Neither the URL (it holds a token) nor the signing key reach the log.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "cadenza-token-0123" not in logged
    assert "s3cret-signing-key" not in logged


def test_a_failing_channel_does_not_fail_or_hold_the_run(receiver: Receiver) -> None:
    receiver.fail_first = 1000  # down for good
    create_channel(WebhookChannel("hook", url=receiver.url))
    create_automation("to-hook", states="Completed", channels="hook")

    @flow
    def fine() -> int:
        return 42

    assert fine() == 42  # returns while the notification is retried in the background
    wait_for(lambda: len(receiver.requests) >= 2)
    (message,) = delivery_history()
    assert message.status in ("pending", "failed")


def test_notify_hooks_on_flows_and_tasks(receiver: Receiver) -> None:
    create_channel(WebhookChannel("hook", url=receiver.url))

    @task(on_failure=[notify("hook", subject="task {{ task_run.name }} failed")])
    def load(n: int) -> int:
        raise ValueError(f"bad row {n}")

    @flow(
        on_failure=[notify("hook", body="{{ flow.name }}: {{ error }}")],
        on_completion=[notify("hook")],
    )
    def pipeline() -> None:
        load(7)

    pipeline(return_state=True)
    assert flush(20)
    payloads = sorted((r["json"] for r in receiver.delivered()), key=lambda p: p["subject"])
    assert len(payloads) == 2
    flow_message = next(p for p in payloads if p["task_run"] is None)
    task_message = next(p for p in payloads if p["task_run"] is not None)
    assert task_message["subject"] == "task load-0 failed"
    assert flow_message["body"].strip() == "pipeline: ValueError: bad row 7"
    assert flow_message["event"] == "Failed"
    assert {m.source for m in delivery_history()} == {"hook"}


def test_a_hook_with_an_unknown_channel_never_raises_into_the_run() -> None:
    @flow(on_completion=[notify("nobody")])
    def quiet() -> str:
        return "done"

    assert quiet() == "done"
    assert flush(20)
    (message,) = delivery_history()
    assert message.status == "failed"
    assert "there is no channel named 'nobody'" in (message.last_error or "")


def test_a_template_error_is_refused_when_the_hook_is_made() -> None:
    from cadenza.exceptions import InvalidNotificationConfig

    with pytest.raises(InvalidNotificationConfig, match="does not render"):
        notify("hook", subject="{{ flow.nme }}")
    with pytest.raises(InvalidNotificationConfig, match="not a valid channel name"):
        notify("no spaces allowed")


def test_no_automation_no_hook_means_no_notification_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import cadenza.notify.runtime as runtime

    calls: list[str] = []
    monkeypatch.setattr(runtime, "embedded_notifier", lambda url: calls.append(url))

    @flow
    def plain() -> int:
        return 1

    for _ in range(3):
        plain()
    assert calls == []
    assert runtime._notifiers == {}


def _count_store_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls of the store's "is any automation enabled?" query, counted."""
    from cadenza.store.sql import SqlStore

    calls: list[str] = []
    asked = SqlStore.has_enabled_automations

    def counted(self: SqlStore) -> bool:
        calls.append(self.url)
        return asked(self)

    monkeypatch.setattr(SqlStore, "has_enabled_automations", counted)
    return calls


def test_runs_ending_after_the_store_opened_do_not_ask_for_automations_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _count_store_checks(monkeypatch)

    @flow
    def plain() -> int:
        return 1

    for _ in range(3):
        plain()  # the first run creates the database: it knows there is no automation
    assert calls == []


def test_an_automation_in_an_existing_database_acts_on_the_first_run(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cadenza.reporting import reset_reporter

    create_channel(WebhookChannel("hook", url=receiver.url))
    create_automation("to-hook", states="Completed", channels="hook")
    reset_reporter()  # as a new process would: the store opens again, nothing is cached
    calls = _count_store_checks(monkeypatch)

    @flow
    def fine() -> int:
        return 42

    assert fine() == 42
    assert flush(20)
    assert [m.automation_name for m in delivery_history()] == ["to-hook"]
    assert calls == []  # read while the store opened


def test_an_automation_made_through_the_store_acts_on_the_next_run(receiver: Receiver) -> None:
    from cadenza.notify.automations import Automation, FlowRunStateTrigger
    from cadenza.store import get_store
    from cadenza.store.sql import SqlStore

    @flow
    def fine() -> int:
        return 42

    fine()  # opens the store: no automation yet
    store = get_store()
    assert isinstance(store, SqlStore)
    store.create_channel(WebhookChannel("hook", url=receiver.url))
    store.create_automation(Automation("to-hook", FlowRunStateTrigger(["Completed"]), ["hook"]))
    fine()
    assert flush(20)
    assert [m.automation_name for m in delivery_history()] == ["to-hook"]
    assert store.set_automation_enabled("to-hook", False) is True
    fine()
    assert flush(20)
    assert len(delivery_history()) == 1
