"""What the screens say for each problem ``code`` the API answers, in the reader's language.

The API's ``detail`` and field ``message`` are English for developers; a page never shows them. It
looks up the problem's (or the field error's) code here, translates it with the catalogues
(``locale/vi/LC_MESSAGES/problems.po``) and fills in the problem's ``params``: dates shown as days,
times of day as ``HH:MM``. ``tests/web/test_problem_codes.py`` fails on a code the services declare
that has no text here or no Vietnamese translation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crm.web.i18n import N_, day, gettext_for

TEXTS: dict[str, str] = {
    "action.in_future": N_("The time of the action cannot be in the future."),
    "action.not_found": N_("This action no longer exists."),
    "action.result_inactive": N_("The result %(code)s is not in use."),
    "action.result_not_allowed": N_("This result cannot be chosen for this type of action."),
    "action.subtype_inactive": N_("The subtype %(code)s is not in use."),
    "action.subtype_not_of_type": N_("This subtype cannot be chosen for this type of action."),
    "action.type_inactive": N_("Choose a type of action."),
    "agent.identifier_exists": N_("Another agent already has this %(field)s."),
    "agent.identifier_taken": N_("Another agent already has this %(field)s."),
    "agent.inactive": N_("Agent %(employeeId)s is not active."),
    "agent.not_active": N_("Choose an active agent."),
    "agent.not_found": N_("This agent does not exist."),
    "assignment.agent_invalid": N_("Choose active agents."),
    "assignment.cifs_or_rule": N_("Choose customers and agents, or a rule."),
    "assignment.dpd_range": N_("The lowest days past due cannot be above the highest."),
    "assignment.limit_for_rule": N_("A limit applies to a rule only."),
    "assignment.no_agent": N_("Choose a call agent, a field agent or both."),
    "assignment.no_free_capacity": N_("no free capacity left in the team"),
    "assignment.not_current": N_("This is no longer the current assignment; change the current one."),
    "assignment.not_found": N_("This assignment does not exist."),
    "assignment.over_capacity": N_("agent at capacity"),
    "assignment.over_capacity_answer": N_("An agent is at capacity."),
    "assignment.rule_chooses_agents": N_("A rule chooses the agents itself."),
    "assignment.rule_moves_assigned": N_("A rule never moves customers who are already assigned."),
    "assignment.taken_meanwhile": N_("assigned by another request meanwhile"),
    "assignment.unknown_customer": N_("unknown customer"),
    "auth.forbidden": N_("Your role does not allow this."),
    "auth.role_required": N_("Your role does not allow this."),
    "auth.throttled": N_("Too many failed sign-ins. Try again in %(retryAfter)s seconds."),
    "auth.token_algorithm": N_("Your session is not valid. Sign in again."),
    "auth.token_expired": N_("Your session has expired. Sign in again."),
    "auth.token_invalid": N_("Your session is not valid. Sign in again."),
    "auth.token_malformed": N_("Your session is not valid. Sign in again."),
    "auth.token_required": N_("Sign in first."),
    "auth.unauthorized": N_("Sign in first."),
    "auth.wrong_credentials": N_("Wrong username or password."),
    "body.not_json": N_("The form could not be read. Try again."),
    "case.nothing_to_record": N_("Choose at least one status or write a note."),
    "case.status_invalid": N_("Choose a value from the list."),
    "contact.calls_exhausted": N_("This customer had already been called %(made)s times on %(day)s."),
    "contact.outside_hours": N_("Calls and visits can only be recorded between %(start)s and %(end)s."),
    "contact.override_forbidden": N_("Only a supervisor or an administrator may override the contact rules."),
    "contact.rules_broken": N_("The contact rules do not allow this action. A supervisor may override them."),
    "coordinate.format": N_("Enter a latitude between -90 and 90 and a longitude between -180 and 180."),
    "customer.not_found": N_("No customer with CIF %(cif)s."),
    "customer.unknown": N_("This customer is not in the bank data."),
    "date.format": N_("Enter a date such as 03/12/2026."),
    "dead_letter.not_found": N_("This dead letter no longer exists (it may have been replayed)."),
    "field.invalid": N_("Check this value."),
    "field.missing": N_("This field is required."),
    "field.not_boolean": N_("Choose yes or no."),
    "field.not_null": N_("This field cannot be empty."),
    "field.not_whole_number": N_("Enter a whole number."),
    "internal.error": N_("Something went wrong on our side. Try again."),
    "loan.not_found": N_("No loan with account number %(account)s."),
    "loan.not_of_customer": N_("This loan is not a loan of the customer."),
    "loan.unknown": N_("This loan is not in the bank data."),
    "lockout.address_not_found": N_("No failed sign-ins are counted for this address."),
    "lockout.not_found": N_("No failed sign-ins are counted for this user."),
    "money.format": N_("Enter an amount, such as 1.250.000."),
    "money.inexact": N_("Enter an amount, such as 1.250.000."),
    "money.not_a_string": N_("Enter an amount, such as 1.250.000."),
    "payment.different_content": N_("Payment %(reference)s already exists with different content."),
    "payment.not_found": N_("No payment with reference number %(reference)s."),
    "payment.not_stored": N_("Payment %(reference)s could not be stored. Try again."),
    "payment.reference_reused": N_("Payment %(reference)s is already known with other details."),
    "payment.status_change_refused": N_("Payment %(reference)s is %(status)s; it cannot become %(to)s."),
    "period.reversed": N_("The start of the period must be on or before its end."),
    "period.too_long": N_("The period can be at most %(maxDays)s days long."),
    "promise.amount_required": N_("Enter the promised amount."),
    "promise.date_in_past": N_("The promise date cannot be in the past."),
    "promise.date_required": N_("Enter the date the customer promised to pay."),
    "promise.date_too_far": N_(
        "The promise date must be at most %(days)s days ahead (on or before %(last)s)."
    ),
    "promise.not_a_promise": N_("Only a promise to pay has an amount and a date."),
    "promise.settled": N_("The promise is %(status)s; its result can no longer change."),
    "receipt.amount_unspellable": N_("This amount cannot be written out on a receipt."),
    "receipt.not_issued": N_("Receipts are issued only for completed or reversed payments."),
    "reconciliation.core_unusable": N_(
        "The core system's payments of %(day)s cannot be used: the file is not valid."
    ),
    "reconciliation.no_core_file": N_("No core system delivered its payments of %(day)s yet."),
    "reconciliation.not_found": N_("No reconciliation report for %(day)s."),
    "request.invalid": N_("Check the values entered."),
    "request.invalid_fields": N_("Check the values entered."),
    "request.method_not_allowed": N_("This cannot be done here."),
    "request.throttled": N_("Too many requests. Try again in %(retryAfter)s seconds."),
    "request.too_large": N_("What was sent is too large."),
    "resource.conflict": N_("Someone changed this meanwhile. Reload and try again."),
    "resource.not_found": N_("Not found."),
    "rule.violated": N_("A business rule does not allow this change."),
    "scope.not_assigned": N_(
        "This customer is not assigned to you. Record on your own customers, or ask a supervisor."
    ),
    "scope.other_agent": N_("You can see only your own work."),
    "customers.text_needs_agent": N_(
        "Searching the list by name or CIF needs an agent: choose one, or use the customer search."
    ),
    "scope.own_actions": N_("You can record actions only as yourself."),
    "scope.own_results": N_("You can change only the results of your own actions."),
    "search.dpd_range": N_("The lowest days past due cannot be above the highest."),
    "search.min_above_max": N_("The lowest days past due cannot be above the highest."),
    "service.unavailable": N_("The service is not available right now. Try again shortly."),
    "signature.malformed": N_("The notification's signature is not valid."),
    "signature.mismatch": N_("The notification's signature is not valid."),
    "signature.missing": N_("The notification is not signed."),
    "signature.no_secret": N_("Payment notifications are not accepted: no webhook secret is configured."),
    "signature.stale": N_("The notification's signature is too old."),
    "sync.already_running": N_("A sync is already queued or running for %(sources)s."),
    "sync.date_in_future": N_("The business date cannot be in the future."),
    "sync.run_not_found": N_("This sync run does not exist."),
    "upstream.failed": N_("A service this page needs did not answer. Try again shortly."),
    "upstream.not_found": N_("Not found."),
    "upstream.unreachable": N_("A service this page needs cannot be reached. Try again shortly."),
    "user.not_found": N_("This user does not exist."),
    "user.not_on_yourself": N_("You cannot remove your own administrator role or deactivate yourself."),
    "user.username_taken": N_("A user named %(username)s already exists."),
    "visit.coordinates_not_visit": N_("Coordinates are only for a visit."),
    "visit.coordinates_pair": N_("Give both coordinates of the visit, or neither."),
    "vocabulary.entry_exists": N_("This code already exists in the list."),
    "vocabulary.entry_not_found": N_("This entry does not exist."),
    "vocabulary.not_linkable": N_("Only subtypes and results are linked to a type of action."),
    "vocabulary.not_linked": N_("This entry is not linked to that type of action."),
    "vocabulary.only_results": N_("Only results have this setting."),
    "vocabulary.parent_not_allowed": N_("Only subtypes and results have a type of action."),
    "vocabulary.result_in_use": N_(
        "Actions were recorded with this result: whether it is a promise cannot change."
    ),
    "vocabulary.unknown": N_("This list does not exist."),
    "vocabulary.unknown_parent": N_("Choose a known type of action."),
    "vocabulary.value_not_allowed": N_("Choose a value from the list."),
}
"""The screen's English for every problem code (the message id of its translation)."""

FIELD_FALLBACK = "field.invalid"
"""What a field error says whose code has no text of its own (pydantic's ``field.string_too_long`` ...)."""

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")


def _shown(value: Any, language: str) -> Any:
    if isinstance(value, str):
        if _DAY.fullmatch(value):
            return day(value, language)
        if _CLOCK.fullmatch(value):
            return value[:5]
    return value


def has_text(code: str) -> bool:
    return code in TEXTS


def explain(code: str, params: Mapping[str, Any] | None, language: str) -> str:
    """The problem ``code`` said for a person, in ``language``, with its ``params`` filled in."""
    text = TEXTS.get(code) or TEXTS[FIELD_FALLBACK if code.startswith("field.") else "request.invalid"]
    values = {name: _shown(value, language) for name, value in (params or {}).items()}
    for name in ("field", "fields"):  # the API's field names said as the form says them
        if isinstance(values.get(name), str):
            values[name] = _field_words(values[name], language)
    needed = set(re.findall(r"%\((\w+)\)s", text))
    if not needed <= values.keys():  # a code raised without the params its text needs: say it plainly
        text, values = TEXTS["request.invalid"], {}
    return gettext_for(language)(text, **{k: v for k, v in values.items() if k in needed})


FIELD_LABELS: dict[str, str] = {
    "maxCustomers": N_("Capacity (customers)"),
    "name": N_("Name"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "type": N_("Type"),
    "team": N_("Team"),
    "employeeId": N_("Employee id"),
    "userId": N_("Login user"),
    "username": N_("Username"),
    "password": N_("Password"),
    "roles": N_("Roles"),
    "language": N_("Language"),
    "isActive": N_("Active"),
    "code": N_("Code"),
    "label": N_("Label in English"),
    "en": N_("Label in English"),
    "vi": N_("Label in Vietnamese"),
    "kind": N_("Vocabulary"),
    "parentType": N_("Action type"),
    "followUpDays": N_("Follow up after (days)"),
    "sortOrder": N_("Sort order"),
    "businessDate": N_("Business date"),
    "date": N_("Date"),
    "amount": N_("Amount"),
    "currency": N_("Currency"),
    "notes": N_("Notes"),
    "reason": N_("Reason"),
    "actionResult": N_("Result"),
    "subtype": N_("Subtype"),
    "promiseAmount": N_("Promised amount"),
    "promiseDate": N_("Promise date"),
    "visitAddress": N_("Visit address"),
    "visitLatitude": N_("Latitude"),
    "visitLongitude": N_("Longitude"),
    "sourceSystem": N_("Source"),
    "referenceNumber": N_("Reference"),
    "cif": N_("CIF"),
}
"""The words of a field the API names in a refusal (its camelCase name), for a page that shows the
refusal without the form (an error page): "Capacity (customers): Enter a whole number."."""


def explain_fields(fields: Mapping[str, tuple[str, Mapping[str, Any] | None]], language: str) -> list[str]:
    """Each refused field (``{field: (code, params)}``) said for a person: its words, what is wrong."""
    _ = gettext_for(language)
    said = []
    for field, (code, params) in fields.items():
        text = explain(code, params, language)
        label = FIELD_LABELS.get(field)
        said.append(f"{_(label)}: {text}" if label else text)
    return said


def _field_words(names: str, language: str) -> str:
    """``"employeeId, userId"`` as the form's words inside a sentence ("mã nhân viên"); a name
    without words stays as it is."""
    _ = gettext_for(language)

    def inside(words: str) -> str:
        return words[0].lower() + words[1:] if len(words) > 1 and words[1].islower() else words

    return ", ".join(
        inside(_(FIELD_LABELS[n.strip()])) if n.strip() in FIELD_LABELS else n.strip()
        for n in names.split(",")
    )
