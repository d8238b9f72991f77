"""Keep the P1/P2 pairs both readers' labels and the dedupe allow; write the added file."""
import json, numpy as np, torch
torch.set_num_threads(1)
from redline.scorers.encoder import encode
THRESH = 0.90
rows = []
for w in ("p1", "p2"):
    src = [json.loads(l) for l in open(f"{w}.jsonl")]
    order = json.load(open(f"read_{w}.jsonl.order.json"))
    labels = [json.loads(l) for l in open(f"label_{w}.jsonl")]
    assert len(labels) == 200 and [l["i"] for l in labels] == list(range(200))
    read = {order[l["i"]]: l for l in labels}
    for k, r in enumerate(src):
        lab = read[k]
        writer_harmful = r["intent"] == "harmful"
        agree = lab["label"] != "unsure" and (lab["label"] == "harmful") == writer_harmful
        rows.append(dict(r, writer=w.upper(), pairkey=f"{w}-{r['pair']}", agree=agree,
                         reader=lab))
data = np.load("data_emb.npz", allow_pickle=True)
E, texts = data["emb"], data["texts"]
new = encode([r["prompt"] for r in rows])
sim_data = new @ E.T
best = sim_data.max(1); arg = sim_data.argmax(1)
for r, b, a in zip(rows, best, arg):
    r["near_data"] = float(b); r["near_text"] = str(texts[a])
# near-repeats among new requests: keep the first, drop later ones
S = new @ new.T
for i, r in enumerate(rows):
    r["near_new"] = next((j for j in range(i) if S[i, j] >= THRESH and rows[j]["pairkey"] != r["pairkey"]), None)
drop_reason = {}
for r in rows:
    if not r["agree"]:
        drop_reason[r["pairkey"]] = drop_reason.get(r["pairkey"], []) + [("reader", r["prompt"], r["reader"])]
    if r["near_data"] >= THRESH:
        drop_reason[r["pairkey"]] = drop_reason.get(r["pairkey"], []) + [("data", r["prompt"], r["near_text"], round(r["near_data"],3))]
    if r["near_new"] is not None:
        drop_reason[r["pairkey"]] = drop_reason.get(r["pairkey"], []) + [("new", r["prompt"], rows[r["near_new"]]["prompt"])]
kept = [r for r in rows if r["pairkey"] not in drop_reason]
with open("request_prompts.added_p.jsonl", "w") as f:
    for r in kept:
        out = {"prompt": r["prompt"], "intent": r["intent"]}
        if r["intent"] == "harmful":
            out["category"] = r["category"]
        f.write(json.dumps(out) + "\n")
json.dump(drop_reason, open("dropped.json", "w"), indent=1)
from collections import Counter
print("pairs dropped", len(drop_reason), Counter(x[0] for v in drop_reason.values() for x in v))
print("kept", len(kept), Counter(r["intent"] for r in kept), Counter(r.get("category") for r in kept if r["intent"]=="harmful"))
print("category disagreements among kept harmful:", sum(1 for r in kept if r["intent"]=="harmful" and r["reader"].get("category")!=r["category"]))
