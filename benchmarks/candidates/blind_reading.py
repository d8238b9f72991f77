"""A writer's requests beside a blind second reader's labels (used by the selection scripts).

Each writer W has W.jsonl (its requests, in order), read_W.jsonl.order.json (the shuffle the
reader saw: position i held request order[i]) and label_W.jsonl (the reader's label per
position). Run the scripts from the folder that holds those files.
"""

import json


def lines(path: str) -> list[dict]:
    return [json.loads(line) for line in open(path)]


def read_writer(w: str) -> list[dict]:
    """W's requests, each with writer, agree (same harmful-or-not, not unsure) and reader."""
    order = json.load(open(f"read_{w}.jsonl.order.json"))
    labels = lines(f"label_{w}.jsonl")
    assert [label["i"] for label in labels] == list(range(len(order)))
    read = {order[label["i"]]: label for label in labels}
    rows = []
    for k, r in enumerate(lines(f"{w}.jsonl")):
        lab = read[k]
        harmful = r["intent"] == "harmful"
        agree = lab["label"] != "unsure" and (lab["label"] == "harmful") == harmful
        rows.append(dict(r, writer=w.upper(), agree=agree, reader=lab))
    return rows
