"""Schemathesis hooks of scripts/fuzz-api.sh: the only findings the run does not count, each a refusal
the OpenAPI document states in words because JSON Schema cannot express it, accepted only for exactly
that reason (the API's own answer names it) and only on the operation it belongs to. Everything else a
check reports fails the run.

- GET /v1/failed-runs `pageToken`: an opaque cursor the API signed; a well-formed value it did not issue
  is refused with 400 naming the parameter (a fuzzer cannot produce a valid one).
- GET /v1/failed-runs, POST /v1/failed-runs/redrive, POST /v1/syncs/{name}/backfill: `from` must be
  before `to` (a rule between two fields), refused with 400 at path `from`.
- GET /v1/report: `from` (default `to` minus `window`) before `to` (default now), at most 31 days apart,
  refused with 400 at path `from` or `window`.
- POST /v1/syncs/{name}/quarantine/redrive: each named record must be in the quarantine (the state of
  the sync, not the request's shape), refused with 400 not_quarantined.
- POST /v1/flows/{type}/runs: the body must be the input of the flow `type` names (the per-flow paths
  carry each schema); a body that does not validate against that flow's own schema in the document is
  refused with 400, and only such a refusal is accepted.
- Text parameters limited in UTF-8 bytes (ids, business keys): JSON Schema counts characters, so a
  value within maxLength may still be over the byte limit; refused with 400 "must be at most N bytes".
- Every JSON body: a key named `__proto__` (or a `constructor` object with a `prototype`) is refused
  anywhere in a body, to protect the process from prototype poisoning; JSON allows such keys and open
  objects (a notification's `data`) may be generated with them. Refused with 400 whose message names
  `__proto__`, accepted only when the generated body really holds such a key.
- POST /v1/customers and POST /v1/flows/.../runs: an Idempotency-Key reused with a different body is 422 (the IETF Idempotency-Key
  draft's answer): it depends on earlier requests, not on this one's shape. A generator reuses the same
  few short keys all the time, which would hide every other answer behind that 422, so each generated
  valid key is made unique first (`map_case`), as a real client's keys are; the reuse rules themselves
  are tested in test/api/customers.test.ts.
"""

import atexit
import itertools
import re
import sys
from collections import Counter

import jsonschema_rs
import schemathesis

accepted = Counter()
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # the API's rule, as documented
serial = itertools.count(1)

# Per operation: the field errors of its rules between fields (the API's own messages).
_before = lambda d: d.get("path") == "from" and d.get("message") == "from must be before to"  # noqa: E731
RANGE_RULE = {
    "GET /v1/failed-runs": _before,
    "POST /v1/failed-runs/redrive": _before,
    "POST /v1/syncs/{name}/backfill": _before,
    "GET /v1/report": lambda d: (d.get("path"), d.get("message"))
    in (("from", "must be before to"), ("window", "at most 31 days")),
}


@schemathesis.hook
def map_case(context, case):
    if not case.headers:
        return case
    for name, value in list(case.headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and IDEMPOTENCY_KEY.match(value):
            case.headers[name] = f"{value[:240]}.{next(serial)}"  # still valid: a longer visible-ASCII key
    return case

# "Schema-valid request rejected" (positive_data_acceptance); every other kind of finding is kept.
REJECTED_POSITIVE_DATA = "ST202"


def _body(response):
    try:
        return response.json()
    except Exception:  # not JSON: not one of the API's documented refusals
        return None


def _stated_refusal(label, status, body):
    """The documented reason the API refused this schema-valid request for, or None."""
    if not isinstance(body, dict):
        return None
    details = body.get("details")
    if status == 400 and label == "GET /v1/failed-runs":
        if isinstance(details, dict) and details.get("parameter") == "pageToken":
            return "a page token the API did not issue"
    if status == 400 and label in RANGE_RULE:
        if isinstance(details, list) and details and all(RANGE_RULE[label](d) for d in details):
            return "from not before to, or more than 31 days before it"
    if status == 400 and label == "POST /v1/syncs/{name}/quarantine/redrive":
        if body.get("error") == "not_quarantined":
            return "a record that is not in the quarantine"
    if status == 422 and body.get("error") == "idempotency_key_reused":
        if label == "POST /v1/customers" or label.startswith("POST /v1/flows/"):
            return "an Idempotency-Key reused with another body"
    if status == 400 and isinstance(details, list) and details and all(_over_bytes(d) for d in details):
        return "a value within maxLength but over its limit in UTF-8 bytes"
    return None


def _over_bytes(detail):
    message = detail.get("message") if isinstance(detail, dict) else None
    return isinstance(message, str) and message.startswith("must be at most ") and message.endswith(" bytes")


def _not_the_flows_input(case):
    """Whether the body is not valid input of the flow the path names, per that flow's own schema."""
    flow = (case.path_parameters or {}).get("type")
    schemas = case.operation.schema.raw_schema.get("components", {}).get("schemas", {})
    name = "Customer" if flow == "customerCreation" else f"{str(flow)[:1].upper()}{str(flow)[1:]}Input"
    own = schemas.get(name)
    if own is None:  # not a startable flow: the API answers 400 (unknown) or 409 (not_startable)
        return True
    return not jsonschema_rs.validator_for(own, validate_formats=True).is_valid(case.body)


def _poisoning_key(value):
    """Whether a decoded JSON value holds `__proto__`, or `constructor` with `prototype`, at any depth."""
    if isinstance(value, dict):
        if "__proto__" in value:
            return True
        ctor = value.get("constructor")
        if isinstance(ctor, dict) and "prototype" in ctor:
            return True
        return any(_poisoning_key(v) for v in value.values())
    if isinstance(value, list):
        return any(_poisoning_key(v) for v in value)
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if getattr(failure, "code", None) != REJECTED_POSITIVE_DATA:
        return True
    body = _body(response)
    reason = _stated_refusal(case.operation.label, response.status_code, body)
    if reason is None and response.status_code == 400 and isinstance(body, dict):
        if "__proto__" in str(body.get("message", "")) and _poisoning_key(case.body):
            reason = "a key named __proto__ (or constructor.prototype) in a JSON body"
    if reason is None and case.operation.label == "POST /v1/flows/{type}/runs":
        if response.status_code == 400 and _not_the_flows_input(case):
            reason = "a body that is not the input of the flow the path names"
    if reason:
        accepted[f"{case.operation.label}: {reason}"] += 1
    return reason is None


@atexit.register
def _summary():
    for what, count in sorted(accepted.items()):
        print(f"fuzz-api: accepted as documented, {count}x: {what}", file=sys.stderr)
