"""Render contracts/README.md, the page of the platform's messages, from contracts/asyncapi.yaml.

    .venv/bin/python contracts/render.py > contracts/README.md

Never edited by hand: `make test` fails while the committed page differs from what this prints.
"""

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def fields(document: dict, schema: dict) -> str:
    """The payload's properties, required ones plain and optional ones with a question mark."""
    schema = resolve(document, schema)
    required = set(schema.get("required", []))
    names = [name if name in required else f"{name}?" for name in schema.get("properties", {})]
    return ", ".join(f"`{name}`" for name in names) or "any object"


def render(document: dict) -> str:
    senders: dict[str, set[str]] = {}
    receivers: dict[str, set[str]] = {}
    replies: dict[str, list[str]] = {}
    for operation in document["operations"].values():
        names = [resolve(document, ref)["name"] for ref in operation["messages"]]
        side = senders if operation["action"] == "send" else receivers
        for name in names:
            side.setdefault(name, set()).add(operation["x-service"])
            if "reply" in operation:
                replies[name] = [resolve(document, ref)["name"] for ref in operation["reply"]["messages"]]
    lines = [
        "# The platform's messages",
        "",
        "Generated from [asyncapi.yaml](asyncapi.yaml) by `contracts/render.py`; do not edit by hand.",
        "",
        document["info"]["description"].strip(),
        "",
        "| message | version | queue | from → to | payload | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for channel in document["channels"].values():
        for ref in channel["messages"].values():
            message = resolve(document, ref)
            name = message["name"]
            route = f"{', '.join(sorted(senders.get(name, [])))} → {', '.join(sorted(receivers.get(name, [])))}"
            summary = message.get("summary", "")
            if name in replies:
                summary += " Answered with " + " or ".join(f"`{reply}`" for reply in replies[name]) + "."
            answered = sorted(request for request, answers in replies.items() if name in answers)
            if answered:
                summary += (
                    " Acknowledges " + " or ".join(f"`{request}`" for request in answered) + " (`in_reply_to`) and "
                    "needs no receipt: a lost one comes again when its request is sent again."
                )
            lines.append(
                f"| `{name}` | {message.get('x-version', 1)} | `{channel['address']}` | {route} "
                f"| {fields(document, message['payload'])} | {summary} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(yaml.safe_load((HERE / "asyncapi.yaml").read_text())))
