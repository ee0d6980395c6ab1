"""drf-spectacular hook: every operation documents the error body it can answer with.

Without it the schema lists only success statuses, and a client generator (or schemathesis) would treat our
ordinary 400/401/403/404/413/422/429 answers as undocumented.
"""

from drf_spectacular.utils import OpenApiResponse

ERROR_BODY = {
    "type": "object",
    "required": ["code", "message", "fields"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable error code"},
        "message": {"type": "string", "description": "For people, in the request's language"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Per-field messages; empty when the error is not about a field",
        },
    },
}

# Turning a group message into a case when it already is one the caller may not see: ``already_reported`` with where
# the case's card is in the group (null when the caller is not in the card's group), and nothing of the case itself.
# (The operation's other conflicts, such as an archived group, are the plain error body.)
ALREADY_REPORTED_RESPONSE = OpenApiResponse(
    response={
        **ERROR_BODY,
        "properties": {
            **ERROR_BODY["properties"],
            "card": {
                "type": "object",
                "nullable": True,
                "required": ["group", "seq"],
                "properties": {"group": {"type": "integer"}, "seq": {"type": "integer"}},
                "description": "With already_reported: the case card in the group, where every member sees it",
            },
        },
    },
    description="already_reported: the message is already a case you may not see; or another conflict",
)

ERROR_STATUSES = {
    "400": "Invalid input",
    "401": "Not logged in, or the session ended",
    "403": "Not allowed for this user",
    "404": "Not found, or not visible to this user",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Conflict with the current state",
    "413": "Request too large",
    "415": "Unsupported media type",
    "422": "Idempotency-Key reused for another request",
    "429": "Too many requests",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_BODY
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                parameters.append(
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                        "description": "One per creating request; a retry with the same key gets the first answer",
                    }
                )
    return result
