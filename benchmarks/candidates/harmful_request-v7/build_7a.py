"""Keep the P1/P2 pairs the blind readers and the near-repeat search allow (candidate 7a).

Reads p1.jsonl, p2.jsonl (the writers'), read_p*.jsonl.order.json (the shuffle the readers
saw), label_p*.jsonl (their labels) and data_emb.npz (emb_data.py); writes
request_prompts.added_p.jsonl and dropped.json. A pair is dropped whole when either half
is: the reader disagreed or was unsure, or the request is at cosine >= 0.90 of a data
file's request or of a request of another pair.
"""

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from redline.scorers.encoder import encode

sys.path.insert(0, str(Path(__file__).parent.parent))
from blind_reading import read_writer  # noqa: E402

torch.set_num_threads(1)
THRESH = 0.90


rows = []
for w in ("p1", "p2"):
    rows += [dict(r, pairkey=f"{w}-{r['pair']}") for r in read_writer(w)]
data = np.load("data_emb.npz", allow_pickle=True)
E, texts = data["emb"], data["texts"]
new = encode([r["prompt"] for r in rows])
near_data = new @ E.T
S = new @ new.T
drop_reason: dict[str, list] = {}
for i, r in enumerate(rows):
    why = drop_reason.setdefault(r["pairkey"], [])
    if not r["agree"]:
        why.append(("reader", r["prompt"], r["reader"]))
    if near_data[i].max() >= THRESH:
        nearest = str(texts[int(near_data[i].argmax())])
        why.append(("data", r["prompt"], nearest, round(float(near_data[i].max()), 3)))
    other = [j for j in range(i) if S[i, j] >= THRESH and rows[j]["pairkey"] != r["pairkey"]]
    if other:
        why.append(("new", r["prompt"], rows[other[0]]["prompt"]))
drop_reason = {k: v for k, v in drop_reason.items() if v}
kept = [r for r in rows if r["pairkey"] not in drop_reason]
with open("request_prompts.added_p.jsonl", "w") as f:
    for r in kept:
        out = {"prompt": r["prompt"], "intent": r["intent"]}
        if r["intent"] == "harmful":
            out["category"] = r["category"]
        f.write(json.dumps(out) + "\n")
json.dump(drop_reason, open("dropped.json", "w"), indent=1)
harmful = [r for r in kept if r["intent"] == "harmful"]
print("pairs dropped", len(drop_reason), Counter(x[0] for v in drop_reason.values() for x in v))
print(
    "kept", len(kept), Counter(r["intent"] for r in kept), Counter(r["category"] for r in harmful)
)
print("category disagreements:", sum(r["reader"].get("category") != r["category"] for r in harmful))
