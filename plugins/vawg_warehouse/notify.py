"""Alerts for operators: a task that failed, and marts that are not fresh by the hour they are due.

Where alerts go is configuration, from the environment (docker-compose passes it from .env):

| variable | meaning |
|---|---|
| ``VAWG_ALERT_WEBHOOK_URL`` | POST a JSON message here (a chat's incoming webhook) |
| ``VAWG_ALERT_SMTP_HOST`` | send an email through this SMTP server (with the variables below) |
| ``VAWG_ALERT_SMTP_PORT`` | default 587 (STARTTLS); 465 for SMTP over TLS; 25 for none |
| ``VAWG_ALERT_SMTP_USER``, ``VAWG_ALERT_SMTP_PASSWORD`` | login, when the server needs one |
| ``VAWG_ALERT_SMTP_PASSWORD_FILE`` | or the password in a file (a compose secret; empty: none) |
| ``VAWG_ALERT_EMAIL_FROM``, ``VAWG_ALERT_EMAIL_TO`` | sender; recipients, comma-separated |
| ``VAWG_MARTS_FRESH_BY`` | HH:MM (UTC) by which the nightly marts must be rebuilt; default 07:00 |
| ``VAWG_BASE_URL`` | the Airflow UI's address as operators reach it (links in alerts) |

A ``VAWG_MARTS_FRESH_BY`` that is not HH:MM is a warning and the default, never an error (the DAG
file reads it). With ``VAWG_BASE_URL`` (``https://airflow.force.example``) an alert links the
task's log and the run report under it; unset, the log link is Airflow's own (``[api] base_url``).
| ``VAWG_DEADLINE_ALERT`` | ``off``: no deadline alert in the DAG (``vawg run`` sets it) |

Neither configured: alerts are only logged. A message names the DAG, run, task, try and the
error's class and first line (the project's errors name files, lines and rules, never a cell
value), and where its log is; nothing else. Sending never raises: an alert that cannot be
delivered is logged, and the task's own failure stands.

The core never imports Airflow: the DAG's ``on_failure_callback`` calls :func:`task_failed` with
Airflow's context, its ``on_retry_callback`` :func:`task_retrying` (a failed try alerts at once,
once per cause and run, marked as retrying), its ``on_success_callback`` :func:`task_recovered`
(an all-clear when a retry mended it) and the deadline alert calls :func:`marts_late` (in the
triggerer).
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from vawg_warehouse.config import Settings

log = logging.getLogger(__name__)

WEBHOOK_ENV = "VAWG_ALERT_WEBHOOK_URL"
SMTP_HOST_ENV = "VAWG_ALERT_SMTP_HOST"
FRESH_BY_ENV = "VAWG_MARTS_FRESH_BY"
BASE_URL_ENV = "VAWG_BASE_URL"
DEADLINE_ENV = "VAWG_DEADLINE_ALERT"
DEFAULT_FRESH_BY = time(7, 0)
SCHEDULED_AT = time(2, 30)  # the nightly DAG's cron (NIGHTLY_SCHEDULE)
NIGHTLY_SCHEDULE = "30 2 * * *"
SCHEDULE_ENV = "VAWG_NIGHTLY_SCHEDULE"
NATIONAL_SCHEDULE_ENV = "VAWG_NATIONAL_SCHEDULE"
MAX_FIELD = 300


def _smtp_password_file() -> str | None:
    """The SMTP password from the file VAWG_ALERT_SMTP_PASSWORD_FILE names (docker-compose.yml:
    a compose secret, not an environment variable); None when unset, empty or unreadable (an
    alert is then sent without a login, and the server says why it refused)."""
    path = os.environ.get("VAWG_ALERT_SMTP_PASSWORD_FILE")
    if not path:
        return None
    try:
        with open(path) as handle:  # (no pathlib: the DAG file imports this module)
            return handle.read().strip() or None
    except OSError as exc:
        log.error("VAWG_ALERT_SMTP_PASSWORD_FILE cannot be read (%s)", type(exc).__name__)
        return None


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    email_from: str | None = None
    email_to: tuple[str, ...] = field(default_factory=tuple)
    timeout: float = 10.0

    @classmethod
    def from_environment(cls) -> AlertSettings:
        env = os.environ
        to = tuple(a.strip() for a in env.get("VAWG_ALERT_EMAIL_TO", "").split(",") if a.strip())
        return cls(
            webhook_url=env.get(WEBHOOK_ENV) or None,
            smtp_host=env.get(SMTP_HOST_ENV) or None,
            smtp_port=int(env.get("VAWG_ALERT_SMTP_PORT") or 587),
            smtp_user=env.get("VAWG_ALERT_SMTP_USER") or None,
            smtp_password=env.get("VAWG_ALERT_SMTP_PASSWORD") or _smtp_password_file(),
            email_from=env.get("VAWG_ALERT_EMAIL_FROM") or None,
            email_to=to,
        )

    @property
    def channels(self) -> list[str]:
        found = []
        if self.webhook_url:
            found.append("webhook")
        if self.smtp_host and self.email_to and self.email_from:
            found.append("email")
        return found


@dataclass(frozen=True)
class Alert:
    kind: str  # "task_failed" or "marts_late"
    title: str
    lines: tuple[str, ...]
    facts: dict[str, str]

    def text(self) -> str:
        return "\n".join([self.title, *self.lines])

    def payload(self) -> dict:
        # "text" is what Slack, Teams (workflows) and Mattermost incoming webhooks display.
        return {"text": self.text(), "kind": self.kind, "title": self.title, "facts": self.facts}


def _short(value: object) -> str:
    text = str(value).strip().splitlines()[0] if str(value).strip() else ""
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 3] + "..."


def _safe(exception: BaseException) -> str:
    from vawg_warehouse.run_outcome import safe_message

    return safe_message(exception)


def send(alert: Alert, settings: AlertSettings | None = None) -> list[str]:
    """Deliver to every configured channel; returns the channels that took it."""
    settings = settings or AlertSettings.from_environment()
    delivered: list[str] = []
    if not settings.channels:
        log.warning(
            "ALERT (no channel configured: set %s or %s) %s",
            WEBHOOK_ENV,
            SMTP_HOST_ENV,
            alert.text(),
        )
        return delivered
    if settings.webhook_url:
        try:
            _post(settings.webhook_url, alert.payload(), settings.timeout)
            delivered.append("webhook")
        except Exception as exc:  # noqa: BLE001 - an alert must never fail the caller
            log.error("alert webhook failed: %s: %s", type(exc).__name__, _short(exc))
    if "email" in settings.channels:
        try:
            _mail(settings, alert)
            delivered.append("email")
        except Exception as exc:  # noqa: BLE001 - an alert must never fail the caller
            log.error("alert email failed: %s: %s", type(exc).__name__, _short(exc))
    log.info("alert %s sent to %s", alert.kind, ", ".join(delivered) or "no channel")
    return delivered


def _post(url: str, payload: dict, timeout: float) -> None:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{WEBHOOK_ENV} must be an http(s) URL")
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "vawg-warehouse-alerts"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


def _mail(settings: AlertSettings, alert: Alert) -> None:
    message = EmailMessage()
    message["Subject"] = alert.title
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message.set_content(alert.text())
    smtp: smtplib.SMTP
    if settings.smtp_port == 465:
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, 465, timeout=settings.timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout)
    with smtp:
        if settings.smtp_port == 587:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


# --------------------------------------------------------------------------------------------
# What the DAG calls
# --------------------------------------------------------------------------------------------


def _facts(context: dict) -> dict[str, str]:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    facts = {
        "dag": str(getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", "")),
        "run": str(getattr(dag_run, "run_id", None) or context.get("run_id", "")),
        "task": str(getattr(ti, "task_id", "")),
        "try": str(getattr(ti, "try_number", "")),
    }
    force = getattr(ti, "force", None)  # a national run's task (vawg_warehouse.national)
    if isinstance(force, str):
        facts["force"] = force
    return facts


def _links(facts: dict[str, str], ti: object) -> None:
    base = os.environ.get(BASE_URL_ENV, "").strip().rstrip("/")
    if base and facts["run"] and facts["task"]:
        from urllib.parse import quote

        from vawg_warehouse.outputs.airflow_ui import URL_PREFIX
        from vawg_warehouse.outputs.reports import RUNS_FOLDER, safe_name

        run, dag = quote(facts["run"], safe=""), quote(facts["dag"], safe="")
        mapped = getattr(ti, "airflow_task_id", None)  # a national run's task: one force's index
        if isinstance(mapped, str):
            where = f"{mapped}/mapped/{getattr(ti, 'map_index', -1)}"
            facts["log"] = f"{base}/dags/{dag}/runs/{run}/tasks/{where}"
            return  # its run report is the force's own, in the force's reports folder
        facts["log"] = f"{base}/dags/{dag}/runs/{run}/tasks/{facts['task']}"
        facts["report"] = f"{base}{URL_PREFIX}/reports/{RUNS_FOLDER}/{safe_name(facts['run'])}.html"
    elif getattr(ti, "log_url", None):
        facts["log"] = str(getattr(ti, "log_url", ""))


def _where(facts: dict[str, str]) -> str:
    """The DAG, and the force of a national run's task."""
    return f"{facts['dag']}, {facts['force']}" if "force" in facts else facts["dag"]


def task_failure_alert(context: dict, retrying: bool = False) -> Alert:
    """The alert for a failed task, or (``retrying``) for a failed try Airflow will retry: it
    says so, and that an all-clear follows if the retry succeeds."""
    ti = context.get("ti") or context.get("task_instance")
    from vawg_warehouse.run_outcome import root_cause

    exception = root_cause(context.get("exception"))
    facts = _facts(context)
    tries = getattr(ti, "max_tries", None)
    if retrying and isinstance(tries, int) and tries > 0:
        facts["try"] = f"{facts['try']} of {tries + 1}"
    facts["error"] = f"{type(exception).__name__}: {_safe(exception)}" if exception else "unknown"
    _links(facts, ti)
    where = _where(facts)
    if retrying:
        title = f"VAWG warehouse: task {facts['task']} failed, retrying ({where})"
        after: tuple[str, ...] = (
            "Airflow retries it: an all-clear follows if it recovers. No further alert for this "
            "cause in this run: if no all-clear comes, it failed for good and the run report "
            "says FAILED.",
        )
    else:
        title = f"VAWG warehouse: task {facts['task']} failed ({where})"
        after = ()
    return Alert(
        "task_retrying" if retrying else "task_failed",
        title,
        (*(f"{k}: {v}" for k, v in facts.items()), *after),
        facts,
    )


def all_clear_alert(context: dict, causes: list[tuple[str, str]]) -> Alert:
    """A task that had failed recovered on a retry, and nothing else of the run is still failing
    with that cause: the alert sent for it is over."""
    ti = context.get("ti") or context.get("task_instance")
    facts = _facts(context)
    facts["recovered from"] = "; ".join(f"{c}: {m}" if m else c for c, m in causes)
    _links(facts, ti)
    return Alert(
        "all_clear",
        f"VAWG warehouse: all clear, task {facts['task']} recovered on try {facts['try']} "
        f"({_where(facts)})",
        tuple(f"{k}: {v}" for k, v in facts.items()),
        facts,
    )


# Tasks that only mark a failure: no record, no alert of their own.
MARKER_TASKS = ("watcher", "record_outcome")


def _failure(context: dict, retrying: bool, settings: Settings | None = None) -> None:
    ti = context.get("ti") or context.get("task_instance")
    if getattr(ti, "task_id", None) in MARKER_TASKS:
        return
    alert = True
    try:
        from vawg_warehouse.outcome_tasks import record_failure

        alert = record_failure(context, settings, retrying=retrying)
    except Exception as exc:  # noqa: BLE001 - never mask the task's own failure
        log.error("could not record the failure in the warehouse: %s", type(exc).__name__)
    if not alert:
        log.info("no alert: this run's alert for the same error was sent already")
        return
    try:
        send(task_failure_alert(context, retrying=retrying))
    except Exception as exc:  # noqa: BLE001 - never mask the task's own failure
        log.error("could not build the failure alert: %s", type(exc).__name__)


def task_failed(context: dict) -> None:
    """``on_failure_callback`` of every task of the nightly DAG (default_args): the failure goes
    into audit.task_failure (vawg_warehouse.run_outcome), then one alert per cause and run: none
    when the run's alert for the same error class and message went out already (at a failed try
    of this task or another's) and a task it hit is still failing."""
    _failure(context, retrying=False)


def task_retrying(context: dict) -> None:
    """``on_retry_callback`` of every task of the nightly DAG: the failed try is recorded and,
    when its cause is new in the run, alerted at once, marked as retrying, rather than after
    the retries and their back-off (minutes): the task's final failure with the same cause then
    sends nothing more."""
    _failure(context, retrying=True)


def task_recovered(context: dict) -> None:
    """``on_success_callback`` of every task of the nightly DAG: after a retry (try 2 or later),
    an all-clear for each cause its failed tries had that no other task of the run still fails
    with. A first try's success does nothing (no connection, no query)."""
    _recovered(context)


def _recovered(context: dict, settings: Settings | None = None) -> None:
    ti = context.get("ti") or context.get("task_instance")
    try_number = getattr(ti, "try_number", None)
    if not isinstance(try_number, int) or try_number <= 1:
        return
    try:
        from vawg_warehouse.outcome_tasks import record_recovery

        causes = record_recovery(context, settings)
        if causes:
            send(all_clear_alert(context, causes))
    except Exception as exc:  # noqa: BLE001 - never fail a task that succeeded
        log.warning("could not check for an all-clear: %s", type(exc).__name__)


def national_task_failed(context: dict) -> None:
    """``on_failure_callback`` of the national DAG's tasks: :func:`task_failed` as the task's
    force (vawg_warehouse.national.as_force): recorded in that force's warehouse, judged against
    its own tasks, the alert naming the force."""
    _as_force(context, lambda seen, settings: _failure(seen, False, settings))


def national_task_retrying(context: dict) -> None:
    """``on_retry_callback`` of the national DAG's tasks: :func:`task_retrying` as the force."""
    _as_force(context, lambda seen, settings: _failure(seen, True, settings))


def national_task_recovered(context: dict) -> None:
    """``on_success_callback`` of the national DAG's tasks: :func:`task_recovered` as the
    force (a first try's success does nothing, as in the nightly)."""
    ti = context.get("ti") or context.get("task_instance")
    try_number = getattr(ti, "try_number", None)
    if not isinstance(try_number, int) or try_number <= 1:
        return  # before reading the force: no XCom read for every first try that succeeds
    _as_force(context, _recovered)


def _as_force(context: dict, callback: Callable[[dict, Settings | None], None]) -> None:
    try:
        from vawg_warehouse.national import as_force

        as_force(context, callback)
    except Exception as exc:  # noqa: BLE001 - never mask (or fail) the task itself
        log.error("could not run the alert callback as the task's force: %s", type(exc).__name__)


def fresh_by() -> time:
    """The hour (UTC) by which the marts must be rebuilt: VAWG_MARTS_FRESH_BY, HH:MM."""
    raw = os.environ.get(FRESH_BY_ENV, "").strip()
    if not raw:
        return DEFAULT_FRESH_BY
    try:
        return time.fromisoformat(raw)
    except ValueError:
        # Never an error: the DAG file reads this when it is parsed, and a DAG that fails to
        # import runs no night at all and alerts nobody.
        log.warning(
            "%s=%r is not HH:MM (UTC): using %s",
            FRESH_BY_ENV,
            raw,
            DEFAULT_FRESH_BY.strftime("%H:%M"),
        )
        return DEFAULT_FRESH_BY


def nightly_schedule() -> str | None:
    """The DAG's schedule: 02:30 UTC every night, or none (``VAWG_NIGHTLY_SCHEDULE=none``: runs
    only when triggered: a test's stack, where a scheduled run would race the triggered one)."""
    raw = os.environ.get(SCHEDULE_ENV, "").strip().lower()
    return None if raw in ("none", "off") else NIGHTLY_SCHEDULE


def national_schedule() -> str | None:
    """The national DAG's schedule (dags/vawg_national.py): ``VAWG_NATIONAL_SCHEDULE`` (a cron
    expression or preset), none when unset or ``none``/``off`` (it runs when triggered only)."""
    raw = os.environ.get(NATIONAL_SCHEDULE_ENV, "").strip()
    return None if raw.lower() in ("", "none", "off") else raw


def deadline_alert_enabled() -> bool:
    """Whether the DAG carries its deadline alert. ``airflow dags test`` in Airflow 3.3.2 fails
    after a successful run of a DAG that has one (its test loop hands the serialised alert, not
    its id, to DeadlineAlertModel.get_by_id), so ``vawg run``, the demo and the tests, which run
    the DAG that way, set VAWG_DEADLINE_ALERT=off (airflow_env.py); a deployment leaves it on."""
    return os.environ.get(DEADLINE_ENV, "on").strip().lower() not in ("off", "false", "0", "no")


def deadline_after_schedule(
    scheduled_at: time = SCHEDULED_AT, due: time | None = None
) -> timedelta:
    """How long after the run's logical date (the scheduled start) the marts are due: the
    DAG's deadline alert interval. A due time earlier than the start means the next day."""
    due = due or fresh_by()
    start = datetime.combine(datetime(2000, 1, 1), scheduled_at)
    end = datetime.combine(datetime(2000, 1, 1), due)
    if end <= start:
        end += timedelta(days=1)
    return end - start


def marts_late_alert(context: dict, due: str | None = None) -> Alert:
    # The triggerer passes the run as a dict (Airflow's DAGRunResponse, dumped to JSON).
    dag_run = context.get("dag_run") or {}
    if not isinstance(dag_run, dict):
        dag_run = {"dag_id": dag_run.dag_id, "dag_run_id": dag_run.run_id}
    dag_id = dag_run.get("dag_id")
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or ""
    facts = {
        "dag": str(dag_id or "vawg_nightly"),
        "run": str(run_id),
        "due": due or fresh_by().strftime("%H:%M UTC"),
        "now": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return Alert(
        "marts_late",
        f"VAWG warehouse: the nightly marts are not fresh by {facts['due']}",
        (
            *(f"{k}: {v}" for k, v in facts.items()),
            "The nightly run has not finished: the marts, the scorecard and the BI views still "
            "show the previous night's data. See the run in Airflow.",
        ),
        facts,
    )


def fresh_by_text() -> str:
    """The due time as alerts say it (``07:00 UTC``): the DAG hands it to its deadline alert when
    it is parsed, so the message says the time the deadline was computed from."""
    return fresh_by().strftime("%H:%M UTC")


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def really_late(context: dict, now: datetime | None = None) -> tuple[bool, str]:
    """Whether a missed deadline means the night's marts are late: only the nightly's scheduled
    run has a due time. Airflow computes the deadline from the logical date, so a backfill or a
    manual run of a past date "misses" it the moment it is queued, though it was never due then;
    and a deadline not yet reached (a clock skew, a callback run early) is no alert either."""
    dag_run = context.get("dag_run") or {}
    run_type = dag_run.get("run_type") if isinstance(dag_run, dict) else None
    if run_type and str(run_type) != "scheduled":
        return False, f"a {run_type} run has no due time (only the scheduled nightly run does)"
    deadline = _moment((context.get("deadline") or {}).get("deadline_time"))
    now = now or datetime.now(UTC)
    if deadline is not None and now < deadline:
        return False, f"its deadline {deadline:%Y-%m-%d %H:%M UTC} has not passed"
    return True, ""


async def marts_late(context: dict, due: str | None = None) -> None:
    """The nightly DAG's deadline alert (an AsyncCallback: runs in the triggerer): sent only when
    the scheduled nightly run is really late (:func:`really_late`); ``due`` is the configured
    time the DAG was parsed with."""
    import asyncio

    late, why_not = really_late(context or {})
    if not late:
        run = (context or {}).get("dag_run") or {}
        run_id = run.get("dag_run_id") if isinstance(run, dict) else None
        log.info("deadline of run %s passed, no alert: %s", run_id, why_not)
        return
    alert = marts_late_alert(context or {}, due)
    await asyncio.to_thread(send, alert)
