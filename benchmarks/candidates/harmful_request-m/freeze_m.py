"""Freeze harmful_request_m: keep requests both readers label alike, not unsure, no near-repeats."""
import json, numpy as np, torch
torch.set_num_threads(1)
from redline.scorers.encoder import encode
THRESH = 0.90
rows = []
for w in ("m1", "m2"):
    src = [json.loads(l) for l in open(f"{w}.jsonl")]
    order = json.load(open(f"read_{w}.jsonl.order.json"))
    labels = [json.loads(l) for l in open(f"label_{w}.jsonl")]
    assert len(labels) == 200 and [l["i"] for l in labels] == list(range(200))
    read = {order[l["i"]]: l for l in labels}
    for k, r in enumerate(src):
        lab = read[k]
        harmful = r["intent"] == "harmful"
        agree = lab["label"] != "unsure" and (lab["label"] == "harmful") == harmful
        rows.append(dict(r, writer=w.upper(), agree=agree, reader=lab))
# data_emb.npz: every request text of the data files (src/redline/scorers/data/**/*.jsonl),
# encoded with redline.scorers.encoder.encode (benchmarks/candidates/harmful_request-v7)
data = np.load("/work/v7/data_emb.npz", allow_pickle=True)
pairs = [json.loads(l)["prompt"] for l in open("/work/v7/request_prompts.added_p.jsonl")]
E = np.concatenate([data["emb"], encode(pairs)])
texts = list(data["texts"]) + pairs
new = encode([r["prompt"] for r in rows])
near = new @ E.T
S = new @ new.T
kept, dropped = [], []
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
        f.write(json.dumps({
            "prompt": r["prompt"], "label": harmful,
            "category": r["category"] if harmful else "benign",
            "tags": [] if harmful else ["risky-benign"],
            "source": f"writer {r['writer']} (AI), 2026-12-08; label confirmed by a blind second reader",
        }) + "\n")
from collections import Counter
for d in dropped: print("DROP", *d)
print("kept", len(kept), Counter(r["intent"] for r in kept),
      Counter(r["category"] for r in kept if r["intent"] == "harmful"))
print("category disagreements among kept harmful:",
      sum(1 for r in kept if r["intent"] == "harmful" and r["reader"].get("category") != r["category"]))
