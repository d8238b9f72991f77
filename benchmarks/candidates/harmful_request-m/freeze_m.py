"""Freeze harmful_request_m: requests the blind reader labels as the writer did, no near-repeats.

Reads m1.jsonl, m2.jsonl, read_m*.jsonl.order.json, label_m*.jsonl, data_emb.npz
(../harmful_request-v7/emb_data.py, run before this set existed) and 7a's kept pairs;
writes harmful_request_m.val.jsonl.
"""

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from redline.scorers.encoder import encode

sys.path.insert(0, str(Path(__file__).parent.parent))
from blind_reading import lines, read_writer  # noqa: E402

torch.set_num_threads(1)
THRESH = 0.90
SOURCE = "writer {} (AI), 2026-12-08; label confirmed by a blind second reader"


rows = []
for w in ("m1", "m2"):
    rows += read_writer(w)
data = np.load("data_emb.npz", allow_pickle=True)
pairs = [r["prompt"] for r in lines("../harmful_request-v7/request_prompts.added_p.jsonl")]
E = np.concatenate([data["emb"], encode(pairs)])
texts = list(data["texts"]) + pairs
new = encode([r["prompt"] for r in rows])
near = new @ E.T
S = new @ new.T
kept: list[dict] = []
dropped = []
for i, r in enumerate(rows):
    why = None
    if not r["agree"]:
        why = f"reader {r['reader']['label']}"
    elif near[i].max() >= THRESH:
        why = f"near data {near[i].max():.3f}: {texts[int(near[i].argmax())][:80]}"
    elif any(S[i, j] >= THRESH and rows[j] in kept for j in range(i)):
        why = "near another new request"
    if why:
        dropped.append((r["writer"], r["intent"], r["prompt"][:90], why))
    else:
        kept.append(r)
with open("harmful_request_m.val.jsonl", "w") as f:
    for r in kept:
        harmful = r["intent"] == "harmful"
        row = {
            "prompt": r["prompt"],
            "label": harmful,
            "category": r["category"] if harmful else "benign",
            "tags": [] if harmful else ["risky-benign"],
            "source": SOURCE.format(r["writer"]),
        }
        f.write(json.dumps(row) + "\n")
for d in dropped:
    print("DROP", *d)
harmful_kept = [r for r in kept if r["intent"] == "harmful"]
print(
    "kept",
    len(kept),
    Counter(r["intent"] for r in kept),
    Counter(r["category"] for r in harmful_kept),
)
print(
    "category disagreements:",
    sum(r["reader"].get("category") != r["category"] for r in harmful_kept),
)
