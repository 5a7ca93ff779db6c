"""Recording actions: checked against the vocabularies, the customer's bank data and the contact rules.

Contact rules (regulatory): a CALL or VISIT only within the contact hours of the business time zone
(both ends included, see ``rules.within_contact_hours``), and at most ``max_call_attempts_per_day``
CALLs per customer per business day (midnight to midnight in the business time zone). A SUPERVISOR
or ADMIN may override them; the action then names them in ``rulesOverriddenBy`` (and the audit
trail keeps it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.platform.auth import Principal, Role
from crm.platform.business_time import business_date, check_period, day_bounds
from crm.platform.db import utcnow
from crm.platform.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from crm.platform.events import WorkflowEvent
from crm.platform.outbox import Outbox
from crm.platform.problems import declare
from crm.platform.schemas import PageParams
from crm.workflow.actions import rules
from crm.workflow.actions.models import ActionRecord
from crm.workflow.actions.schemas import ActionCreate, ResultUpdate
from crm.workflow.agents.models import Agent
from crm.workflow.bank_data import UNKNOWN_CUSTOMER, BankDataQueryService
from crm.workflow.callers import acting_agent_id, ensure_may_write_on, is_only_agent
from crm.workflow.readmodel.models import LoanView
from crm.workflow.settings import WorkflowSettings
from crm.workflow.vocabularies.models import LinkKind, VocabularyEntry, VocabularyKind
from crm.workflow.vocabularies.service import find_entry, is_linked

CONTACT_TYPES = ("CALL", "VISIT")
SETTLED = ("KEPT", "BROKEN")
NEWEST_FIRST = (ActionRecord.action_date.desc(), ActionRecord.created_at.desc(), ActionRecord.id)
OVERRIDERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


TYPE_INACTIVE = declare("action.type_inactive", "{code!r} is not an active action type")
SUBTYPE_INACTIVE = declare("action.subtype_inactive", "{code!r} is not an active action subtype")
SUBTYPE_NOT_OF_TYPE = declare("action.subtype_not_of_type", "{code!r} is not a subtype of {type}")
RESULT_INACTIVE = declare("action.result_inactive", "{code!r} is not an active action result")
RESULT_NOT_ALLOWED = declare("action.result_not_allowed", "{code!r} is not a result allowed for {type}")
AMOUNT_REQUIRED = declare("promise.amount_required", "a {result} needs a promiseAmount greater than 0")
DATE_REQUIRED = declare("promise.date_required", "a {result} needs a promiseDate")
NOT_A_PROMISE = declare("promise.not_a_promise", "only a promise result carries one, not {result}")
COORDINATES_PAIR = declare("visit.coordinates_pair", "give both coordinates of the visit or neither")
COORDINATES_NOT_VISIT = declare("visit.coordinates_not_visit", "coordinates are only for a VISIT")
AGENT_NOT_ACTIVE = declare("agent.not_active", "no active agent with this id")
CALLS_EXHAUSTED = declare(
    "contact.calls_exhausted", "customer {cif} already had {made} CALLs on {day}; at most {max} a day"
)
CONTACT_RULES = declare("contact.rules_broken", "Contact rules: {reasons}. A SUPERVISOR may override.")
UNKNOWN_LOAN = declare("loan.unknown", "No loan {account!r} in bank data.")
LOAN_OF_ANOTHER = declare("loan.not_of_customer", "Loan {account!r} is not a loan of customer {cif!r}.")
OWN_ACTIONS = declare(
    "scope.own_actions", "An agent records actions only as itself (agentId must be your own)."
)
OVERRIDE_FORBIDDEN = declare(
    "contact.override_forbidden", "Only a SUPERVISOR or ADMIN may override the contact rules."
)
OWN_RESULTS = declare("scope.own_results", "An agent updates only the results of its own actions.")
NO_ACTION = declare("action.not_found", "No action with id {id}.")
PROMISE_SETTLED = declare(
    "promise.settled", "The promise of this action is {status}; its result can no longer change."
)
INVALID_FIELDS = declare("request.invalid_fields", "Invalid value for: {fields}. {first}")


def _refuse(errors: list[dict[str, Any]]) -> None:
    if errors:
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise BusinessRuleViolation.of(
            INVALID_FIELDS, errors=errors, fields=fields, first=errors[0]["message"]
        )


@dataclass(frozen=True)
class Promise:
    amount: Decimal | None
    day: date | None


async def _result_entry(
    session: AsyncSession, type_code: str, result_code: str, errors: list[dict[str, Any]]
) -> VocabularyEntry | None:
    result = await find_entry(session, VocabularyKind.ACTION_RESULT, result_code)
    if result is None or not result.is_active:
        errors.append(RESULT_INACTIVE.field("actionResult", code=result_code))
        return None
    if not await is_linked(session, LinkKind.TYPE_RESULT, type_code, result_code):
        errors.append(RESULT_NOT_ALLOWED.field("actionResult", code=result_code, type=type_code))
        return None
    return result


def _check_promise(
    result: VocabularyEntry | None,
    promise: Promise,
    *,
    today: date,
    horizon_days: int,
    errors: list[dict[str, Any]],
) -> None:
    if result is None:
        return
    if result.is_promise:
        if promise.amount is None:
            errors.append(AMOUNT_REQUIRED.field("promiseAmount", result=result.code))
        if promise.day is None:
            errors.append(DATE_REQUIRED.field("promiseDate", result=result.code))
        elif (refusal := rules.promise_date_refusal(promise.day, today, horizon_days)) is not None:
            code, params = refusal
            errors.append(code.field("promiseDate", **params))
        return
    if promise.amount is not None:
        errors.append(NOT_A_PROMISE.field("promiseAmount", result=result.code))
    if promise.day is not None:
        errors.append(NOT_A_PROMISE.field("promiseDate", result=result.code))


def _authorize(caller: Principal, data: ActionCreate) -> None:
    if is_only_agent(caller) and acting_agent_id(caller) != data.agent_id:
        raise Forbidden.of(OWN_ACTIONS)
    if data.override_contact_rules and not caller.roles & OVERRIDERS:
        raise Forbidden.of(OVERRIDE_FORBIDDEN)


async def _check_vocabulary(
    session: AsyncSession, data: ActionCreate, errors: list[dict[str, Any]]
) -> VocabularyEntry | None:
    action_type = await find_entry(session, VocabularyKind.ACTION_TYPE, data.type)
    if action_type is None or not action_type.is_active:
        errors.append(TYPE_INACTIVE.field("type", code=data.type))
        return None
    if data.subtype is not None:
        subtype = await find_entry(session, VocabularyKind.ACTION_SUBTYPE, data.subtype)
        if subtype is None or not subtype.is_active:
            errors.append(SUBTYPE_INACTIVE.field("subtype", code=data.subtype))
        elif not await is_linked(session, LinkKind.TYPE_SUBTYPE, data.type, data.subtype):
            errors.append(SUBTYPE_NOT_OF_TYPE.field("subtype", code=data.subtype, type=data.type))
    return await _result_entry(session, data.type, data.action_result, errors)


def _check_visit(data: ActionCreate, errors: list[dict[str, Any]]) -> None:
    if data.type == "VISIT":
        if (data.visit_latitude is None) != (data.visit_longitude is None):
            missing = "visitLongitude" if data.visit_longitude is None else "visitLatitude"
            errors.append(COORDINATES_PAIR.field(missing))
        return
    for name, value in (
        ("visitLatitude", data.visit_latitude),
        ("visitLongitude", data.visit_longitude),
    ):
        if value is not None:
            errors.append(COORDINATES_NOT_VISIT.field(name))


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


async def _snapshot(
    session: AsyncSession, bank: BankDataQueryService, data: ActionCreate
) -> tuple[int | None, Decimal | None]:
    """(dpd, due amount) of the loan, or of the customer over its loans; 422 for an unknown cif/loan.

    The customer and the loan are asked of bank-sync (they must exist there); a customer's worst dpd
    and total due come from workflow's read model, which SyncEvents and PaymentEvents keep current."""
    try:
        await bank.customer(data.cif)
    except NotFound:
        raise BusinessRuleViolation.of(
            UNKNOWN_CUSTOMER, errors=[UNKNOWN_CUSTOMER.field("cif", cif=data.cif)], cif=data.cif
        ) from None
    if data.loan_account_number is None:
        row = (
            await session.execute(
                select(func.max(LoanView.dpd), func.sum(LoanView.due_amount)).where(LoanView.cif == data.cif)
            )
        ).one()
        return row[0], row[1]
    try:
        loan = await bank.loan(data.loan_account_number)
    except NotFound:
        account = data.loan_account_number
        raise BusinessRuleViolation.of(
            UNKNOWN_LOAN, errors=[UNKNOWN_LOAN.field("loanAccountNumber", account=account)], account=account
        ) from None
    if loan.get("cif") != data.cif:
        params = {"account": data.loan_account_number, "cif": data.cif}
        raise BusinessRuleViolation.of(
            LOAN_OF_ANOTHER, errors=[LOAN_OF_ANOTHER.field("loanAccountNumber", **params)], **params
        )
    dpd = loan.get("dpd")
    return (int(dpd) if dpd is not None else None), _decimal(loan.get("dueAmount"))


async def _calls_that_day(session: AsyncSession, cif: str, day: date, settings: WorkflowSettings) -> int:
    # One recorder at a time per customer, so two concurrent CALLs cannot both be the last allowed one.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"calls:{cif}"})
    start, end = day_bounds(day, settings.tz)
    count = await session.scalar(
        select(func.count()).where(
            ActionRecord.cif == cif,
            ActionRecord.type == "CALL",
            ActionRecord.action_date >= start,
            ActionRecord.action_date < end,
        )
    )
    return count or 0


async def _contact_rules(
    session: AsyncSession, data: ActionCreate, action_date: datetime, settings: WorkflowSettings
) -> list[dict[str, Any]]:
    """The contact rules this action breaks (empty when it keeps them)."""
    broken: list[dict[str, Any]] = []
    if data.type not in CONTACT_TYPES:
        return broken
    start, end = settings.contact_hours_start, settings.contact_hours_end
    if not rules.within_contact_hours(action_date, settings.tz, start, end):
        local = action_date.astimezone(settings.tz)
        broken.append(
            rules.OUTSIDE_HOURS.field(
                "actionDate",
                time=local.strftime("%H:%M:%S"),
                zone=settings.tz.key,
                start=start.isoformat(),
                end=end.isoformat(),
            )
        )
    if data.type == "CALL":
        day = business_date(action_date, settings.tz)
        made = await _calls_that_day(session, data.cif, day, settings)
        if made >= settings.max_call_attempts_per_day:
            broken.append(
                CALLS_EXHAUSTED.field(
                    "type", cif=data.cif, made=made, day=day, max=settings.max_call_attempts_per_day
                )
            )
    return broken


async def recorded_with_key(session: AsyncSession, caller: Principal, key: str) -> ActionRecord | None:
    """The action this caller recorded with this ``Idempotency-Key``, if any.

    Waits first for a concurrent request with the same key (a transaction-scoped advisory lock, held
    until that request commits), so two quick submits of one form record one action.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"idempotency:{caller.subject}:{key}"}
    )
    found: ActionRecord | None = await session.scalar(
        select(ActionRecord).where(
            ActionRecord.created_by == caller.subject, ActionRecord.idempotency_key == key
        )
    )
    return found


async def record_action(
    session: AsyncSession,
    outbox: Outbox,
    bank: BankDataQueryService,
    settings: WorkflowSettings,
    data: ActionCreate,
    *,
    caller: Principal,
    idempotency_key: str | None = None,
) -> ActionRecord:
    """Check and store an action, and stage its ACTION_RECORDED event."""
    _authorize(caller, data)
    await ensure_may_write_on(session, caller, data.cif, settings.agent_write_scope)
    now = utcnow()
    action_date = data.action_date or now
    errors: list[dict[str, Any]] = []
    result = await _check_vocabulary(session, data, errors)
    promise = Promise(data.promise_amount, data.promise_date)
    today = business_date(now, settings.tz)
    _check_promise(result, promise, today=today, horizon_days=settings.promise_horizon_days, errors=errors)
    _check_visit(data, errors)
    agent = await session.get(Agent, data.agent_id)
    if agent is None or not agent.is_active:
        errors.append(AGENT_NOT_ACTIVE.field("agentId"))
    _refuse(errors)
    assert result is not None  # _refuse raised otherwise
    # Before the bank-data lookup: a refused contact costs no round trip. A CALL takes the customer's
    # attempts lock here; it is held until the commit.
    broken = await _contact_rules(session, data, action_date, settings)
    if broken and not data.override_contact_rules:
        reasons = "; ".join(e["message"] for e in broken)
        raise BusinessRuleViolation.of(CONTACT_RULES, errors=broken, reasons=reasons)
    dpd, due = await _snapshot(session, bank, data)
    action = ActionRecord(
        cif=data.cif,
        loan_account_number=data.loan_account_number,
        agent_id=data.agent_id,
        type=data.type,
        subtype=data.subtype,
        action_result=data.action_result,
        action_date=action_date,
        notes=data.notes,
        promise_amount=promise.amount if result.is_promise else None,
        promise_date=promise.day if result.is_promise else None,
        promise_status="OPEN" if result.is_promise else None,
        follow_up_date=rules.follow_up_date(
            action_date, settings.tz, result.follow_up_days, promise.day if result.is_promise else None
        ),
        dpd_at_action=dpd,
        due_amount_at_action=due,
        call_trace_id=data.call_trace_id,
        visit_latitude=data.visit_latitude,
        visit_longitude=data.visit_longitude,
        visit_address=data.visit_address,
        rules_overridden_by=caller.subject if broken else None,
        created_by=caller.subject,
        updated_by=caller.subject,
        idempotency_key=idempotency_key,
    )
    session.add(action)
    await session.flush()
    await outbox.add(session, _recorded_event(action, broken))
    return action


def _recorded_event(action: ActionRecord, broken: list[dict[str, Any]]) -> WorkflowEvent:
    details: dict[str, Any] = {
        "type": action.type,
        "subtype": action.subtype,
        "actionResult": action.action_result,
        "actionDate": action.action_date.isoformat(),
        "loanAccountNumber": action.loan_account_number,
        "promiseAmount": f"{action.promise_amount:.2f}" if action.promise_amount is not None else None,
        "promiseDate": action.promise_date.isoformat() if action.promise_date else None,
        "followUpDate": action.follow_up_date.isoformat() if action.follow_up_date else None,
    }
    if broken:
        details["rulesOverriddenBy"] = action.rules_overridden_by
    return WorkflowEvent(
        type="ACTION_RECORDED",
        entity_id=str(action.id),
        agent_id=str(action.agent_id),
        cif=action.cif,
        details=details,
    )


async def update_result(
    session: AsyncSession,
    settings: WorkflowSettings,
    action_id: uuid.UUID,
    data: ResultUpdate,
    *,
    caller: Principal,
) -> ActionRecord:
    """Change an action's result (and its promise); a settled (KEPT/BROKEN) promise is final (409)."""
    action = await session.scalar(select(ActionRecord).where(ActionRecord.id == action_id).with_for_update())
    if action is None:
        raise NotFound.of(NO_ACTION, id=action_id)
    if is_only_agent(caller) and acting_agent_id(caller) != action.agent_id:
        raise Forbidden.of(OWN_RESULTS)
    if action.promise_status in SETTLED:
        status = action.promise_status
        raise Conflict.of(
            PROMISE_SETTLED, errors=[PROMISE_SETTLED.field("actionResult", status=status)], status=status
        )
    errors: list[dict[str, Any]] = []
    result = await _result_entry(session, action.type, data.action_result, errors)
    promise = Promise(data.promise_amount, data.promise_date)
    today = business_date(utcnow(), settings.tz)
    _check_promise(result, promise, today=today, horizon_days=settings.promise_horizon_days, errors=errors)
    _refuse(errors)
    assert result is not None
    action.action_result = result.code
    action.notes = data.notes
    if result.is_promise:
        action.promise_amount, action.promise_date, action.promise_status = (
            promise.amount,
            promise.day,
            "OPEN",
        )
    else:
        action.promise_amount = action.promise_date = action.promise_status = None
    action.follow_up_date = rules.follow_up_date(
        action.action_date, settings.tz, result.follow_up_days, action.promise_date
    )
    action.updated_by = caller.subject
    await session.flush()
    return action


@dataclass(frozen=True)
class HistoryFilter:
    """The optional filters of an action history: one type, business dates (inclusive)."""

    action_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None


async def list_actions(
    session: AsyncSession,
    settings: WorkflowSettings,
    only: HistoryFilter,
    paging: PageParams,
    *,
    cif: str | None = None,
    loan_account_number: str | None = None,
) -> tuple[list[ActionRecord], int]:
    """A customer's or a loan's actions, newest actionDate first."""
    action_type, date_from, date_to = only.action_type, only.date_from, only.date_to
    check_period(date_from, date_to)
    query = select(ActionRecord)
    if cif is not None:
        query = query.where(ActionRecord.cif == cif)
    if loan_account_number is not None:
        query = query.where(ActionRecord.loan_account_number == loan_account_number)
    if action_type is not None:
        query = query.where(ActionRecord.type == action_type)
    if date_from is not None:
        query = query.where(ActionRecord.action_date >= day_bounds(date_from, settings.tz)[0])
    if date_to is not None:
        query = query.where(ActionRecord.action_date < day_bounds(date_to, settings.tz)[1])
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(*NEWEST_FIRST).offset(paging.offset).limit(paging.page_size))
    return list(rows), total
